{{/* Chart name, cut to 63 characters (a DNS label). */}}
{{- define "vm-dhcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Base name of every object: the release name when it already holds the chart name (the usual
`helm install vm-dhcp ...` gives vm-dhcp-controller, vm-dhcp-agent, vm-dhcp-webhook), else
<release>-<chart>. Cut to 52 characters so that the longest suffix still fits in 63.
*/}}
{{- define "vm-dhcp.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "vm-dhcp.controller.fullname" -}}{{ include "vm-dhcp.fullname" . }}-controller{{- end }}
{{- define "vm-dhcp.agent.fullname" -}}{{ include "vm-dhcp.fullname" . }}-agent{{- end }}
{{- define "vm-dhcp.webhook.fullname" -}}{{ include "vm-dhcp.fullname" . }}-webhook{{- end }}
{{/* The Secret the webhook keeps its self-made serving certificate in. */}}
{{- define "vm-dhcp.webhook.secretName" -}}{{ include "vm-dhcp.webhook.fullname" . }}-tls{{- end }}

{{/* Labels on every object. */}}
{{- define "vm-dhcp.labels" -}}
{{- $chart := printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" -}}
helm.sh/chart: {{ $chart | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "vm-dhcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "controller"). */}}
{{- define "vm-dhcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vm-dhcp.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image of every role. A tag given as a number (--set image.tag=2) is a string too. */}}
{{- define "vm-dhcp.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}

{{/* The image of the agent pods: the chart's image unless agent.image overrides it. */}}
{{- define "vm-dhcp.agent.image" -}}
{{- $repository := default .Values.image.repository .Values.agent.image.repository }}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) .Values.agent.image.tag }}
{{- $tag = toString $tag }}
{{- printf "%s:%s" $repository $tag }}
{{- end }}

{{/* The image of the agent pods' address step: agent.initImage, else the agent image. */}}
{{- define "vm-dhcp.agent.initImage" -}}
{{- default (include "vm-dhcp.agent.image" .) .Values.agent.initImage }}
{{- end }}

{{/*
The controller's environment for the agent pods: the chart's pull secrets (a comma list of
names) and the agent.* placement values (JSON). Empty values are left out. Node selector
values are made strings, so `--set agent.nodeSelector.dhcp=true` selects the label "true".
*/}}
{{- define "vm-dhcp.agent.placementEnv" -}}
{{- $agent := .Values.agent }}
{{- $env := list }}
{{- with .Values.imagePullSecrets }}
{{- $names := list }}
{{- range . }}
{{- $names = append $names .name }}
{{- end }}
{{- $env = append $env (dict "name" "AGENT_IMAGE_PULL_SECRETS" "value" (join "," $names)) }}
{{- end }}
{{- with $agent.resources }}
{{- $env = append $env (dict "name" "AGENT_RESOURCES" "value" (toJson .)) }}
{{- end }}
{{- with $agent.tolerations }}
{{- $env = append $env (dict "name" "AGENT_TOLERATIONS" "value" (toJson .)) }}
{{- end }}
{{- with $agent.nodeSelector }}
{{- $selector := dict }}
{{- range $label, $value := . }}
{{- $_ := set $selector $label (toString $value) }}
{{- end }}
{{- $env = append $env (dict "name" "AGENT_NODE_SELECTOR" "value" (toJson $selector)) }}
{{- end }}
{{- with $agent.priorityClassName }}
{{- $env = append $env (dict "name" "AGENT_PRIORITY_CLASS_NAME" "value" .) }}
{{- end }}
{{- with $env }}{{ toYaml . }}{{ end }}
{{- end }}

{{/* The liveness and readiness probes every role serves on the HTTP port. */}}
{{- define "vm-dhcp.probes" -}}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  periodSeconds: 5
  failureThreshold: 3
{{- end }}

{{/* A label map as the webhook's --namespace-selector wants it: k=v,k2=v2. */}}
{{- define "vm-dhcp.labelPairs" -}}
{{- $pairs := list }}
{{- range $key, $value := . }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end }}

{{/* Fields every webhook of the two configurations shares (as registration.ts sets them). */}}
{{- define "vm-dhcp.webhook.common" -}}
admissionReviewVersions: ["v1"]
sideEffects: None
failurePolicy: Fail
matchPolicy: Equivalent
timeoutSeconds: 10
namespaceSelector:
  {{- with .root.Values.webhook.namespaceSelector }}
  matchLabels:
    {{- toYaml . | nindent 4 }}
  {{- else }} {}
  {{- end }}
clientConfig:
  service:
    namespace: {{ .root.Release.Namespace }}
    name: {{ .name }}
    port: 443
    path: {{ .path }}
{{- end }}
