// The kubelet's rules for a container's environment, as `livepath up` applies them to the chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerEnv, expand, expandCommand, fieldValue, serviceLinkEnv } from '../../services/lab/up/env.js';

const pod = {
  name: 'lp-livepath-peers-3',
  namespace: 'ns',
  uid: 'u-1',
  labels: { 'apps.kubernetes.io/pod-index': '3' },
  annotations: { a: 'b' },
  podIP: '127.77.0.9',
  hostIP: '127.0.0.1',
  nodeName: 'here',
  serviceAccountName: 'lp',
};
const none = { configMaps: new Map(), secrets: new Map(), serviceEnv: new Map() };

test('expand: $(VAR), $$ escapes, undefined and unterminated references stay as written', () => {
  const vars = new Map([
    ['A', 'x'],
    ['B', 'y'],
  ]);
  const get = (n: string) => vars.get(n);
  assert.equal(expand('$(A)-$(B)', get), 'x-y');
  assert.equal(expand('$$(A)', get), '$(A)');
  assert.equal(expand('$(C)', get), '$(C)');
  assert.equal(expand('$(A', get), '$(A');
  assert.equal(expand('a$b$', get), 'a$b$');
  assert.equal(expand('$$$(A)', get), '$x');
});

test('env: a value sees only the variables defined before it; args see them all', () => {
  const c = {
    name: 'peers',
    args: ['--viewer-index', '$(POD_INDEX)', '--at', '$(LATE)'],
    env: [
      { name: 'EARLY', value: '$(POD_NAME).svc' },
      { name: 'POD_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'LATE', value: '$(POD_NAME).svc' },
    ],
  };
  const env = containerEnv(c, pod, none);
  assert.equal(env.get('EARLY'), '$(POD_NAME).svc');
  assert.equal(env.get('LATE'), 'lp-livepath-peers-3.svc');
  assert.deepEqual(expandCommand(c, env).args, ['--viewer-index', '3', '--at', 'lp-livepath-peers-3.svc']);
});

test('downward API fields, ConfigMap keys, and service links', () => {
  assert.equal(fieldValue(pod, 'status.podIP'), '127.77.0.9');
  assert.equal(fieldValue(pod, "metadata.annotations['a']"), 'b');
  assert.throws(() => fieldValue(pod, 'status.phase'), /fieldPath "status.phase"/);
  const links = serviceLinkEnv([
    { name: 'lp-livepath-origin', clusterIP: '127.78.0.2', ports: [{ name: 'relay', port: 7000 }] },
    { name: 'lp-livepath-peers', clusterIP: 'None', ports: [{ name: 'relay', port: 7000 }] },
  ]);
  assert.equal(links.get('LP_LIVEPATH_ORIGIN_SERVICE_HOST'), '127.78.0.2');
  assert.equal(links.get('LP_LIVEPATH_ORIGIN_SERVICE_PORT_RELAY'), '7000');
  assert.equal(links.get('LP_LIVEPATH_ORIGIN_PORT_7000_TCP_ADDR'), '127.78.0.2');
  assert.ok(![...links.keys()].some((k) => k.startsWith('LP_LIVEPATH_PEERS')), 'headless: no links');
  const c = {
    name: 'x',
    env: [
      { name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
      { name: 'O', value: '$(LP_LIVEPATH_ORIGIN_SERVICE_HOST)' },
    ],
  };
  const env = containerEnv(c, pod, { ...none, configMaps: new Map([['cm', { k: 'v' }]]), serviceEnv: links });
  assert.equal(env.get('K'), 'v');
  assert.equal(env.get('O'), '127.78.0.2');
  assert.throws(
    () =>
      containerEnv(
        { name: 'x', env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'gone', key: 'k' } } }] },
        pod,
        none,
      ),
    /key "k" of ConfigMap "gone"/,
  );
});
