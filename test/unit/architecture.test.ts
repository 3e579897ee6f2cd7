// The architecture as docs/architecture.md draws it: every import in services/ that crosses from
// one part to another must be an arrow of its Mermaid diagram (and, where the arrow is labelled,
// go to one of the files it names); no role imports another role; core does no I/O; every folder
// of services/ is a part the page's table describes. The diagram is the rule: change the code and
// the page together.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SERVICES = join(ROOT, 'services');
const ROLES = ['origin', 'edge', 'peer', 'tracker'];

interface Arrow {
  from: string;
  to: string;
  /** when the arrow is labelled: the only files of `to` that `from` may import */
  files?: string[];
}

/** The arrows of the first ```mermaid block of docs/architecture.md: `a --> b` or `a -->|"x.ts, y.ts"| b`. */
function drawnArrows(): Arrow[] {
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const block = /```mermaid\n([\s\S]*?)```/.exec(page);
  assert.ok(block, 'docs/architecture.md has a ```mermaid diagram');
  const arrows: Arrow[] = [];
  for (const line of block[1]!.split('\n')) {
    const m = /^\s*([\w-]+)\s*-->\s*(?:\|"?([^|"]*)"?\|\s*)?([\w-]+)\s*$/.exec(line);
    if (!m) continue;
    const files = m[2]?.split(',').map((f) => f.trim());
    arrows.push({ from: m[1]!, to: m[3]!, ...(files && { files }) });
  }
  return arrows;
}

interface Import {
  /** file, relative to services/ */
  file: string;
  line: number;
  specifier: string;
}

/** Every import (static, type-only, re-export and dynamic) of every hand-written file in services/. */
function imports(): Import[] {
  const out: Import[] = [];
  const files = (readdirSync(SERVICES, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.startsWith(`gen${sep}`))
    .sort();
  for (const file of files) {
    const text = readFileSync(join(SERVICES, file), 'utf8');
    const info = ts.preProcessFile(text, true, true);
    for (const ref of info.importedFiles) {
      const line = text.slice(0, ref.pos).split('\n').length;
      out.push({ file: file.split(sep).join('/'), line, specifier: ref.fileName });
    }
  }
  return out;
}

/** The part an import lands in ("core", "results", … or a top-level folder outside services/) and the file in it. */
function target(i: Import): { part: string; path: string } | undefined {
  if (!i.specifier.startsWith('.')) return undefined;
  const abs = resolve(SERVICES, dirname(i.file), i.specifier).replace(/\.js$/, '.ts');
  const inServices = relative(SERVICES, abs).split(sep);
  if (inServices[0] !== '..') return { part: inServices[0]!, path: inServices.slice(1).join('/') };
  const outside = relative(ROOT, abs).split(sep);
  return { part: outside[0]!, path: outside.slice(1).join('/') };
}

test('every import between parts of services/ is an arrow docs/architecture.md draws', () => {
  const arrows = drawnArrows();
  assert.ok(arrows.length > 10, `the diagram has arrows (found ${arrows.length})`);
  const problems: string[] = [];
  for (const i of imports()) {
    const to = target(i);
    const from = i.file.split('/')[0]!;
    if (!to || to.part === from) continue;
    const arrow = arrows.find((a) => a.from === from && a.to === to.part);
    const where = `services/${i.file}:${i.line} imports ${i.specifier}`;
    if (!arrow) problems.push(`${where}: the diagram draws no arrow ${from} → ${to.part}`);
    else if (arrow.files && !arrow.files.includes(to.path))
      problems.push(`${where}: the arrow ${from} → ${to.part} allows only ${arrow.files.join(', ')}`);
  }
  assert.deepEqual(problems, [], `imports docs/architecture.md does not draw:\n${problems.join('\n')}`);
});

test('every arrow the diagram draws is an import that exists', () => {
  const used = new Set<string>();
  for (const i of imports()) {
    const to = target(i);
    if (to) used.add(`${i.file.split('/')[0]} --> ${to.part}`);
  }
  const unused = drawnArrows()
    .map((a) => `${a.from} --> ${a.to}`)
    .filter((a) => !used.has(a));
  assert.deepEqual(unused, [], 'arrows in docs/architecture.md that no import uses: delete them');
});

test('no role imports another role, and the diagram draws no such arrow', () => {
  const between = drawnArrows().filter((a) => ROLES.includes(a.from) && ROLES.includes(a.to));
  assert.deepEqual(between, []);
  const problems = imports().filter((i) => {
    const from = i.file.split('/')[0]!;
    const to = target(i)?.part;
    return ROLES.includes(from) && to !== undefined && to !== from && ROLES.includes(to);
  });
  assert.deepEqual(problems, []);
});

test('services/core does no I/O: it imports no node: module and nothing outside core', () => {
  const problems = imports()
    .filter((i) => i.file.startsWith('core/'))
    .filter((i) => i.specifier.startsWith('node:') || (target(i) !== undefined && target(i)!.part !== 'core'))
    .map((i) => `services/${i.file}:${i.line} imports ${i.specifier}`);
  assert.deepEqual(problems, []);
});

test('every folder of services/ is a part the page describes, and the page describes no other', () => {
  const folders = readdirSync(SERVICES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const page = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const described = [...page.matchAll(/^\| `([\w-]+)\/` \|/gm)].map((m) => m[1]!).sort();
  assert.deepEqual(
    folders.filter((f) => !described.includes(f)),
    [],
    'services/ folders missing from the table of parts in docs/architecture.md: add a row (what it owns) and its arrows',
  );
  assert.deepEqual(
    described.filter((p) => !folders.includes(p)),
    [],
    'parts in docs/architecture.md with no folder in services/',
  );
});
