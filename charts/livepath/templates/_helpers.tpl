{{/*
Names, labels and the pieces every livepath pod shares (args, volumes, probes, netem init).
Names are truncated to 63 characters because some Kubernetes name fields are DNS labels.
*/}}

{{- define "livepath.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "livepath.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "livepath.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name of one component: livepath.componentName (list $ "tracker") */}}
{{- define "livepath.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "livepath.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "livepath.labels" -}}
helm.sh/chart: {{ include "livepath.chart" . }}
{{ include "livepath.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: livepath
{{- end }}

{{- define "livepath.selectorLabels" -}}
app.kubernetes.io/name: {{ include "livepath.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Labels of one component. livepath.io/role and livepath.io/region become the Prometheus `role` and
`region` target labels; livepath.io/job is the Prometheus job name (ServiceMonitor jobLabel).
Call with (dict "root" $ "component" "edge" "role" "edge" "instance" "edge-us-east" "region" "us-east");
without "role" (the bundled Prometheus/Grafana) a Service is not a livepath scrape target.
*/}}
{{- define "livepath.componentLabels" -}}
{{ include "livepath.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .role }}
livepath.io/role: {{ . }}
livepath.io/job: livepath-{{ . }}
{{- end }}
{{- with .instance }}
livepath.io/node: {{ . }}
{{- end }}
{{- with .region }}
livepath.io/region: {{ . }}
{{- end }}
{{- end }}

{{/* Selector of one component's pods; .instance distinguishes the edges. */}}
{{- define "livepath.componentSelector" -}}
{{ include "livepath.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- with .instance }}
livepath.io/node: {{ . }}
{{- end }}
{{- end }}

{{- define "livepath.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "livepath.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "livepath.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The scenario text: --set-file scenarioFile wins over the inline scenario. */}}
{{- define "livepath.scenario" -}}
{{- $text := default .Values.scenario .Values.scenarioFile }}
{{- if not (trim $text) }}
{{- fail "no scenario: set `scenario` (inline YAML) or `--set-file scenarioFile=scenarios/<name>.yaml`" }}
{{- end }}
{{- $text }}
{{- end }}

{{/*
The scenario is the one source of truth for the nodes: origin id, edges (id, parent, region) and
how many viewers there are come from it (geo: geo.origin, geo.edges, the clusters' counts plus the
viewers churn `join` events add; graph: the nodes by role and edgeParents). Values that name them
too (origin.nodeId, edges, peers.hosts) must agree, or the render fails naming the difference.
*/}}
{{- define "livepath.scenarioData" -}}
{{- $s := include "livepath.scenario" . | fromYaml }}
{{- if hasKey $s "Error" }}
{{- fail (printf "the scenario is not valid YAML: %s" (get $s "Error")) }}
{{- end }}
{{- if not (or $s.geo $s.graph) }}
{{- fail "the scenario has neither geo nor graph: it names no origin, edges or viewers (see scenarios/*.yaml)" }}
{{- end }}
{{- toJson $s }}
{{- end }}

{{- define "livepath.originId" -}}
{{- $s := include "livepath.scenarioData" . | fromJson }}
{{- $id := "" }}
{{- if $s.geo }}
{{- $id = $s.geo.origin.id }}
{{- else }}
{{- range $s.graph.nodes }}{{ if eq .role "origin" }}{{ $id = .id }}{{ end }}{{ end }}
{{- end }}
{{- if not $id }}
{{- fail "the scenario names no origin (geo.origin.id, or a graph node with role: origin)" }}
{{- end }}
{{- if and .Values.origin.nodeId (ne .Values.origin.nodeId $id) }}
{{- fail (printf "origin.nodeId is %q but the scenario's origin is %q: leave origin.nodeId empty (it is read from the scenario) or make them equal" .Values.origin.nodeId $id) }}
{{- end }}
{{- $id }}
{{- end }}

{{/* The CDN edges as JSON {"edges": [{id, parent, region}]}, from the scenario, checked against values.edges. */}}
{{- define "livepath.edges" -}}
{{- $root := . }}
{{- $s := include "livepath.scenarioData" . | fromJson }}
{{- $origin := include "livepath.originId" . }}
{{- $edges := list }}
{{- if $s.geo }}
{{- range ($s.geo.edges | default list) }}
{{- $edges = append $edges (dict "id" .id "parent" (.parent | default $origin) "region" (.region | default .id)) }}
{{- end }}
{{- else }}
{{- $parents := $s.graph.edgeParents | default dict }}
{{- range $s.graph.nodes }}
{{- if eq .role "edge" }}
{{- $edges = append $edges (dict "id" .id "parent" (get $parents .id | default $origin) "region" (.region | default "graph")) }}
{{- end }}
{{- end }}
{{- end }}
{{- $reserved := list "origin" "tracker" "peers" "scenario" "ingest" "prometheus" "grafana" "test-probe" }}
{{- range $edges }}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" .id) }}
{{- fail (printf "scenario edge id %q is not a DNS label (lower-case letters, digits, '-'): it names the edge's Deployment and Service" .id) }}
{{- end }}
{{- if has .id $reserved }}
{{- fail (printf "scenario edge id %q is a name the chart uses for another object (%s): rename the edge" .id (join ", " $reserved)) }}
{{- end }}
{{- end }}
{{- if $root.Values.edges }}
{{- $want := list }}
{{- range $edges }}{{ $want = append $want (printf "%s<-%s" .id .parent) }}{{ end }}
{{- $have := list }}
{{- range $root.Values.edges }}{{ $have = append $have (printf "%s<-%s" .id (.parent | default $origin)) }}{{ end }}
{{- $missing := list }}
{{- range $want }}{{ if not (has . $have) }}{{ $missing = append $missing . }}{{ end }}{{ end }}
{{- $extra := list }}
{{- range $have }}{{ if not (has . $want) }}{{ $extra = append $extra . }}{{ end }}{{ end }}
{{- if or $missing $extra }}
{{- fail (printf "values.edges do not match the scenario's edges (id<-parent): the scenario has %s that values lack%s; leave edges empty (they are read from the scenario) or make them equal" (join ", " ($missing | default (list "none"))) (ternary "" (printf ", values have %s that the scenario lacks" (join ", " $extra)) (empty $extra))) }}
{{- end }}
{{- /* values may give the Prometheus region of an edge */}}
{{- $regions := dict }}
{{- range $root.Values.edges }}{{ if .region }}{{ $_ := set $regions .id .region }}{{ end }}{{ end }}
{{- $out := list }}
{{- range $edges }}{{ $out = append $out (merge (dict "region" (get $regions .id | default .region)) .) }}{{ end }}
{{- $edges = $out }}
{{- end }}
{{- toJson (dict "edges" $edges) }}
{{- end }}

{{/* How many viewers the scenario has (the peers' slices cover them all). */}}
{{- define "livepath.viewerCount" -}}
{{- $s := include "livepath.scenarioData" . | fromJson }}
{{- $n := 0 }}
{{- if $s.geo }}
{{- range $s.geo.viewers.clusters }}{{ $n = add $n (int .count) }}{{ end }}
{{- range ($s.churn | default list) }}{{ if and (eq .kind "join") .count }}{{ $n = add $n (int .count) }}{{ end }}{{ end }}
{{- else }}
{{- range $s.graph.nodes }}{{ if eq .role "peer" }}{{ $n = add $n 1 }}{{ end }}{{ end }}
{{- end }}
{{- $n }}
{{- end }}

{{/* Peer pods: ⌈viewers ÷ viewersPerHost⌉, or peers.hosts when given (and it agrees). */}}
{{- define "livepath.peerHosts" -}}
{{- $viewers := int (include "livepath.viewerCount" .) }}
{{- $per := int .Values.peers.viewersPerHost }}
{{- $need := div (add $viewers (sub $per 1)) $per }}
{{- $hosts := $need }}
{{- if not (kindIs "invalid" .Values.peers.hosts) }}
{{- $hosts = int .Values.peers.hosts }}
{{- if gt $hosts $need }}
{{- fail (printf "peers.hosts is %d but the scenario's %d viewers fill %d hosts of %d (peers.viewersPerHost): pods past them would have no viewers; leave peers.hosts unset (it is derived) or lower it" $hosts $viewers $need $per) }}
{{- end }}
{{- if and (gt $hosts 0) (lt $hosts $need) }}
{{- fail (printf "peers.hosts is %d but the scenario's %d viewers need %d hosts of %d (peers.viewersPerHost): leave peers.hosts unset (it is derived) or raise peers.viewersPerHost" $hosts $viewers $need $per) }}
{{- end }}
{{- end }}
{{- $hosts }}
{{- end }}

{{/* Addresses */}}
{{- define "livepath.originAddress" -}}
{{ include "livepath.componentName" (list . "origin") }}:{{ .Values.ports.relay }}
{{- end }}

{{- define "livepath.trackerAddress" -}}
{{ include "livepath.componentName" (list . "tracker") }}:{{ .Values.ports.tracker }}
{{- end }}

{{/*
--directory value: every relay node's id → its Service address, so any node can resolve the
parent the scenario (or the tracker) gives it. Also checks edges[].parent and id uniqueness.
*/}}
{{- define "livepath.directory" -}}
{{- $root := . }}
{{- $origin := include "livepath.originId" . }}
{{- $entries := list (printf "%s=%s" $origin (include "livepath.originAddress" .)) }}
{{- $ids := list $origin }}
{{- $edges := (include "livepath.edges" . | fromJson).edges }}
{{- range $edges }}
{{- if has .id $ids }}
{{- fail (printf "edges: id %q is used twice (or equals origin.nodeId); every edge needs its own id" .id) }}
{{- end }}
{{- $ids = append $ids .id }}
{{- $entries = append $entries (printf "%s=%s:%v" .id (include "livepath.componentName" (list $root .id)) $root.Values.ports.relay) }}
{{- end }}
{{- range $edges }}
{{- if and .parent (not (has .parent $ids)) }}
{{- fail (printf "edges: parent %q of edge %q is neither the origin (%q) nor another edge's id" .parent .id $origin) }}
{{- end }}
{{- if eq (default "" .parent) .id }}
{{- fail (printf "edges: edge %q cannot be its own parent" .id) }}
{{- end }}
{{- end }}
{{- join "," $entries }}
{{- end }}

{{/* Pod annotations: a scenario change rolls every pod (they read it only at start). */}}
{{- define "livepath.podAnnotations" -}}
checksum/scenario: {{ include "livepath.scenario" . | sha256sum }}
{{- end }}

{{/*
Environment shared by every livepath container. LIVEPATH_LINK_SHAPING takes the CLI's names: with
netem the kernel shapes the pod's traffic ("kernel": the service emulates nothing on top of it).
*/}}
{{- define "livepath.env" -}}
- name: LIVEPATH_LINK_SHAPING
  value: {{ ternary "kernel" "linkemu" (eq .Values.linkShaping "netem") | quote }}
- name: LIVEPATH_RESULTS_DIR
  value: /app/results
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
{{- end }}

{{- define "livepath.volumeMounts" -}}
- name: scenario
  mountPath: /etc/livepath
  readOnly: true
- name: tmp
  mountPath: /tmp
- name: results
  mountPath: /app/results
{{- end }}

{{- define "livepath.volumes" -}}
- name: scenario
  configMap:
    name: {{ include "livepath.componentName" (list . "scenario") }}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
- name: results
  emptyDir:
    sizeLimit: {{ .Values.scratchSizeLimit }}
{{- end }}

{{/*
gRPC health probes (grpc.health.v1) on the given port: liveness asks for the role's gRPC service
(SERVING while the process answers), readiness for the overall status (SERVING only while the
role streams: the origin produces, an edge receives from its parent, a peers host has its viewers
joined, the tracker knows the stream's clock). Call with (list $ port "livepath.v1.Relay").
*/}}
{{- define "livepath.probes" -}}
{{- $root := index . 0 }}
{{- $port := index . 1 }}
livenessProbe:
  grpc:
    port: {{ $port }}
    service: {{ index . 2 }}
  periodSeconds: {{ $root.Values.probes.periodSeconds }}
  failureThreshold: {{ $root.Values.probes.livenessFailureThreshold }}
readinessProbe:
  grpc:
    port: {{ $port }}
  periodSeconds: {{ $root.Values.probes.periodSeconds }}
  failureThreshold: {{ $root.Values.probes.readinessFailureThreshold }}
{{- end }}

{{- define "livepath.podSpecCommon" -}}
serviceAccountName: {{ include "livepath.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/*
netem init container: shapes the pod's egress with tc before the service starts. tc needs an
effective CAP_NET_ADMIN, which Kubernetes grants only to a root process (capabilities.add is not
made ambient for non-root users), so this one container runs as uid 0 with NET_ADMIN alone.
*/}}
{{- define "livepath.netemInit" -}}
{{- if eq .Values.linkShaping "netem" }}
{{- $n := .Values.netem }}
- name: netem
  image: "{{ $n.image.repository }}:{{ $n.image.tag }}"
  imagePullPolicy: {{ $n.image.pullPolicy }}
  command: ["tc"]
  args:
    - qdisc
    - replace
    - dev
    - {{ $n.interface | quote }}
    - root
    - netem
    - delay
    - "{{ $n.delayMs }}ms"
    {{- if gt (int $n.jitterMs) 0 }}
    - "{{ $n.jitterMs }}ms"
    {{- end }}
    {{- if gt (float64 $n.lossPercent) 0.0 }}
    - loss
    - "{{ $n.lossPercent }}%"
    {{- end }}
    {{- if gt (int64 $n.rateBps) 0 }}
    - rate
    - "{{ int64 $n.rateBps }}bit"
    {{- end }}
  resources:
    {{- toYaml $n.resources | nindent 4 }}
  securityContext:
    runAsUser: 0
    runAsNonRoot: false
    allowPrivilegeEscalation: false
    readOnlyRootFilesystem: true
    capabilities:
      drop: ["ALL"]
      add: ["NET_ADMIN"]
{{- end }}
{{- end }}
