// Scenario validation (services/core/scenario/schema.ts + load.ts): every user mistake becomes a
// ScenarioError naming file, line, field and a fix — never a stack trace or a silent default.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FRAGMENT_BYTES } from '../../services/core/constants.js';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseScenario,
  ScenarioError,
  ScenarioFileError,
  type ScenarioIssue,
} from '../../services/core/scenario/index.js';
import { loadScenarioFile } from '../../services/runtime/plan.js';

const GEO = `name: t
seed: 3
durationS: 30
stream:
  bitrateBps: 3e6
  chunkDurationMs: 250
geo:
  origin: { id: origin, lat: 50.1, lon: 8.7, uplinkBps: 10e9 }
  edges:
    - { id: edge-a, lat: 39.0, lon: -77.5 }
    - { id: edge-b, lat: 1.35, lon: 103.8 }
  viewers:
    clusters:
      - { name: tokyo, lat: 35.68, lon: 139.69, count: 4, radiusKm: 40 }
`;

const GRAPH = `name: g
durationS: 10
stream: { bitrateBps: 2e6, chunkDurationMs: 250 }
graph:
  nodes:
    - { id: b, role: broadcaster }
    - { id: origin, role: origin }
    - { id: edge1, role: edge }
    - { id: s1, role: switch }
    - { id: v1, role: peer }
    - { id: v2, role: peer }
  links:
    - { a: b, b: origin, latencyMs: 1 }
    - { a: origin, b: edge1, latencyMs: 10 }
    - { a: edge1, b: s1, latencyMs: 1 }
    - { a: s1, b: v1, latencyMs: 5 }
    - { a: s1, b: v2, latencyMs: 10 }
`;

/** The issues of a text that must fail. */
function issuesOf(text: string, fileName = 'case.yaml'): readonly ScenarioIssue[] {
  try {
    parseScenario(text, fileName);
  } catch (err) {
    assert.ok(err instanceof ScenarioError, `expected ScenarioError, got ${String(err)}`);
    assert.ok(err.issues.length > 0);
    return err.issues;
  }
  assert.fail('the scenario was accepted');
}

function findIssue(issues: readonly ScenarioIssue[], path: string): ScenarioIssue {
  const issue = issues.find((i) => i.path === path);
  assert.ok(issue, `no issue at ${path}; got ${JSON.stringify(issues)}`);
  return issue;
}

test('the base scenarios are valid and get their defaults', () => {
  const geo = parseScenario(GEO, 'geo.yaml');
  assert.equal(geo.geo?.pathInflation, 1.5);
  assert.equal(geo.geo?.fiberKmPerMs, 200);
  assert.deepEqual(geo.geo?.accessLatencyMs, { broadcaster: 1, origin: 0.5, edge: 0.5, peer: 4 });
  assert.equal(geo.stream.fragmentBytes, DEFAULT_FRAGMENT_BYTES);
  assert.equal(geo.stream.keyframeIntervalChunks, 1);
  assert.equal(geo.geo?.origin.uplinkBps, 10e9); // YAML float 10e9 accepted
  assert.deepEqual(geo.arrivals, { spreadS: 0 });
  assert.deepEqual(geo.churn, []);
  const graph = parseScenario(GRAPH, 'graph.yaml');
  assert.equal(graph.seed, 1);
  assert.equal(graph.graph?.links[0]?.bandwidthBps, 10e9);
});

test('a latitude out of range names file, line, field, the value and a fix', () => {
  const text = GEO.replace('{ id: edge-b, lat: 1.35', '{ id: edge-b, lat: 123');
  const issue = findIssue(issuesOf(text, 'world.yaml'), 'geo.edges[1].lat');
  assert.equal(issue.line, 11);
  assert.match(issue.message, /must be between -90 and 90 \(got 123\) — fix: /);
  try {
    parseScenario(text, 'world.yaml');
  } catch (err) {
    assert.match(
      (err as Error).message,
      /^ {2}world\.yaml:11: geo\.edges\[1\]\.lat: must be between -90 and 90 \(got 123\) — fix: .+$/m,
    );
    assert.doesNotMatch((err as Error).message, /at .*\.ts:\d+/); // no stack frames in the message
  }
});

test('an unknown key is an error at its own line, with a spelling suggestion', () => {
  const text = GEO.replace('  chunkDurationMs: 250\n', '  chunkDurationMs: 250\n  fragmentByte: 1024\n');
  const issue = findIssue(issuesOf(text), 'stream.fragmentByte');
  assert.equal(issue.line, 7);
  assert.match(issue.message, /unknown key "fragmentByte" — fix: did you mean "fragmentBytes"\?/);
});

test('an unknown top-level key is caught too', () => {
  const issue = findIssue(issuesOf(`${GEO}durationSeconds: 5\n`), 'durationSeconds');
  assert.equal(issue.line, 15);
  assert.match(issue.message, /did you mean "durationS"\?/);
});

test('a missing origin is reported at the geo section', () => {
  const text = GEO.replace('  origin: { id: origin, lat: 50.1, lon: 8.7, uplinkBps: 10e9 }\n', '');
  const issue = findIssue(issuesOf(text), 'geo.origin');
  assert.equal(issue.line, 7);
  assert.match(issue.message, /is required — fix: add `origin:`/);
});

test('a graph without an origin, or with two broadcasters, is rejected', () => {
  const noOrigin = GRAPH.replace('    - { id: origin, role: origin }\n', '    - { id: origin, role: switch }\n');
  assert.match(findIssue(issuesOf(noOrigin), 'graph.nodes').message, /no origin — fix: add a node with `role: origin`/);
  const twoBroadcasters = GRAPH.replace('{ id: v2, role: peer }', '{ id: v2, role: broadcaster }');
  assert.match(findIssue(issuesOf(twoBroadcasters), 'graph.nodes').message, /2 broadcasters \(b, v2\)/);
});

test('an unreachable viewer is named with its line', () => {
  const text = GRAPH.replace('    - { a: s1, b: v2, latencyMs: 10 }\n', '');
  const issue = findIssue(issuesOf(text), 'graph.nodes[5]');
  assert.equal(issue.line, 11);
  assert.match(issue.message, /peer "v2" cannot be reached from the broadcaster "b"/);
});

test('an edge cut off from the broadcaster, its viewers, and a viewer no edge reaches are rejected', () => {
  // Without origin–edge1, edge1 and v1 form an island; v2 is moved next to the broadcaster.
  const text = GRAPH.replace('{ a: s1, b: v2, latencyMs: 10 }', '{ a: b, b: v2, latencyMs: 10 }').replace(
    '    - { a: origin, b: edge1, latencyMs: 10 }\n',
    '',
  );
  const issues = issuesOf(text);
  assert.match(findIssue(issues, 'graph.nodes[2]').message, /edge "edge1" cannot be reached from the broadcaster/);
  assert.match(findIssue(issues, 'graph.nodes[4]').message, /peer "v1" cannot be reached from the broadcaster/);
  // v2 is reachable from the broadcaster but from no edge: it would have no CDN path.
  assert.match(findIssue(issues, 'graph.nodes[5]').message, /peer "v2" cannot be reached from any edge/);
});

test('links to undeclared nodes point at the link end', () => {
  const text = GRAPH.replace('{ a: s1, b: v2, latencyMs: 10 }', '{ a: s1, b: v9, latencyMs: 10 }');
  const issue = findIssue(issuesOf(text), 'graph.links[4].b');
  assert.equal(issue.line, 17);
  assert.match(issue.message, /no node "v9"/);
});

test('duplicate ids are rejected', () => {
  const text = GEO.replace('{ id: edge-b,', '{ id: edge-a,');
  assert.match(findIssue(issuesOf(text), 'geo.edges[1].id').message, /already used by geo\.edges\[0\]\.id/);
});

test('YAML syntax errors become ScenarioErrors with a line number', () => {
  const text = 'name: x\nstream: { bitrateBps: 3e6,\ndurationS: 10\n';
  const issues = issuesOf(text);
  assert.equal(issues[0]?.path, '');
  assert.equal(issues[0]?.line, 3);
  assert.match(issues[0]!.message, /^YAML syntax: .+ — fix: /);
});

test('an empty file and a non-mapping file say so', () => {
  assert.match(issuesOf('')[0]!.message, /the file is empty/);
  assert.match(issuesOf('- a\n- b\n')[0]!.message, /the file holds a list, not a scenario/);
});

test('types, integers and positivity are checked with the offending value', () => {
  const text = GEO.replace('count: 4', 'count: 2.5')
    .replace('bitrateBps: 3e6', 'bitrateBps: -1')
    .replace('lon: 139.69', 'lon: east');
  const issues = issuesOf(text);
  assert.match(findIssue(issues, 'geo.viewers.clusters[0].count').message, /whole number \(got 2\.5\)/);
  assert.match(findIssue(issues, 'stream.bitrateBps').message, /must be > 0 \(got -1\)/);
  assert.match(findIssue(issues, 'geo.viewers.clusters[0].lon').message, /must be a finite number \(got "east"\)/);
});

test('geo and graph together, or neither, is an error', () => {
  const both = `${GEO}${GRAPH.slice(GRAPH.indexOf('graph:'))}`;
  assert.match(findIssue(issuesOf(both), 'graph').message, /both `geo:` and `graph:`/);
  const neither = GEO.slice(0, GEO.indexOf('geo:'));
  assert.match(findIssue(issuesOf(neither), '(top level)').message, /neither a `geo:` nor a `graph:`/);
});

test('churn must name real viewers, after they joined, each once, before the end', () => {
  const base = `${GEO}arrivals: { spreadS: 2 }\nchurn:\n`;
  const unknown = issuesOf(`${base}  - { atS: 5, kind: leave, viewers: [tokyo-9] }\n`);
  assert.match(
    findIssue(unknown, 'churn[0].viewers[0]').message,
    /no viewer "tokyo-9" — fix: viewer ids are <cluster>-<n>/,
  );
  const early = issuesOf(`${base}  - { atS: 1, kind: kill, viewers: [tokyo-1] }\n`);
  assert.match(findIssue(early, 'churn[0].atS').message, /may not have joined yet/);
  const joinedLater = issuesOf(
    `${base}  - { atS: 10, kind: join, count: 2, cluster: tokyo }\n  - { atS: 8, kind: leave, viewers: [tokyo-6] }\n`,
  );
  assert.match(findIssue(joinedLater, 'churn[1].atS').message, /joins at 10 s/);
  const twice = issuesOf(
    `${base}  - { atS: 5, kind: leave, viewers: [tokyo-1] }\n  - { atS: 6, kind: kill, viewers: [tokyo-1] }\n`,
  );
  assert.match(findIssue(twice, 'churn[1].viewers[0]').message, /already departs in churn\[0\]/);
  const late = issuesOf(`${base}  - { atS: 30, kind: kill, fraction: 0.5 }\n`);
  assert.match(findIssue(late, 'churn[0].atS').message, /before the end of the broadcast/);
  const both = issuesOf(`${base}  - { atS: 5, kind: kill, fraction: 0.5, viewers: [tokyo-1] }\n`);
  assert.match(findIssue(both, 'churn[0]').message, /exactly one of `fraction` or `viewers`/);
  const badCluster = issuesOf(`${base}  - { atS: 5, kind: join, count: 2, cluster: osaka }\n`);
  assert.match(findIssue(badCluster, 'churn[0].cluster').message, /no cluster named "osaka" — fix: use one of: tokyo/);
  const badKind = issuesOf(`${base}  - { atS: 5, kind: explode }\n`);
  assert.match(findIssue(badKind, 'churn[0].kind').message, /must be one of .*\(got "explode"\)/);
});

test('graph joins name peers; geo-only join fields are rejected in a graph', () => {
  const ok = parseScenario(
    `${GRAPH}churn:\n  - { atS: 2, kind: join, viewers: [v2] }\n  - { atS: 5, kind: leave, viewers: [v2] }\n`,
    'g.yaml',
  );
  assert.equal(ok.churn.length, 2);
  const notPeer = issuesOf(`${GRAPH}churn:\n  - { atS: 2, kind: join, viewers: [s1] }\n`);
  assert.match(findIssue(notPeer, 'churn[0].viewers[0]').message, /"s1" is not a peer/);
  const byCount = issuesOf(`${GRAPH}churn:\n  - { atS: 2, kind: join, count: 3, cluster: lan }\n`);
  assert.match(findIssue(byCount, 'churn[0]').message, /no clusters/);
});

test('edge parents must exist and must not loop', () => {
  const loop = GEO.replace(
    '{ id: edge-a, lat: 39.0, lon: -77.5 }',
    '{ id: edge-a, lat: 39.0, lon: -77.5, parent: edge-b }',
  ).replace('{ id: edge-b, lat: 1.35, lon: 103.8 }', '{ id: edge-b, lat: 1.35, lon: 103.8, parent: edge-a }');
  assert.match(findIssue(issuesOf(loop), 'geo.edges[0].parent').message, /its own ancestor/);
  const missing = GEO.replace(
    '{ id: edge-a, lat: 39.0, lon: -77.5 }',
    '{ id: edge-a, lat: 39.0, lon: -77.5, parent: edge-z }',
  );
  assert.match(
    findIssue(issuesOf(missing), 'geo.edges[0].parent').message,
    /"edge-z" is neither the origin nor an edge/,
  );
  const graphParent = issuesOf(`${GRAPH}  edgeParents: { edge1: v1 }\n`);
  assert.match(findIssue(graphParent, 'graph.edgeParents.edge1').message, /neither the origin nor an edge/);
});

test('every problem is reported at once, in line order', () => {
  const text = GEO.replace('name: t', 'name: Bad_Name').replace('lat: 39.0', 'lat: 99').replace('count: 4', 'count: 0');
  const issues = issuesOf(text);
  assert.deepEqual(
    issues.map((i) => i.path),
    ['name', 'geo.edges[0].lat', 'geo.viewers.clusters[0].count'],
  );
  assert.deepEqual(
    issues.map((i) => i.line),
    [1, 10, 14],
  );
});

test('loadScenarioFile reads a file and reports a missing one as ScenarioFileError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'livepath-scenario-'));
  try {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, GEO);
    assert.equal(loadScenarioFile(file).name, 't');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, GEO.replace('lat: 39.0', 'lat: 99'));
    assert.throws(
      () => loadScenarioFile(bad),
      (err: unknown) => {
        assert.ok(err instanceof ScenarioError);
        assert.match(
          err.message,
          new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:10: geo\\.edges\\[0\\]\\.lat`),
        );
        return true;
      },
    );
    assert.throws(
      () => loadScenarioFile(join(dir, 'nope.yaml')),
      (err: unknown) => {
        assert.ok(err instanceof ScenarioFileError);
        assert.match(err.message, /no such file — fix: check the path/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
