{{/* vim: set filetype=mustache: */}}

{{/*
The three components, in a fixed order. Every per-component template ranges over this list.
*/}}
{{- define "chat.components" -}}
auth chat gateway
{{- end }}

{{/*
Expand the name of the chart.
*/}}
{{- define "chat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
We truncate at 63 chars because some Kubernetes name fields are limited to this (by the DNS naming spec).
If release name contains chart name it will be used as a full name.
*/}}
{{- define "chat.fullname" -}}
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

{{/*
Create chart name and version as used by the chart label.
*/}}
{{- define "chat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels: the full app.kubernetes.io set (component is added per component) plus
helm.sh/chart and any commonLabels.
*/}}
{{- define "chat.labels" -}}
helm.sh/chart: {{ include "chat.chart" . }}
{{ include "chat.selectorLabels" . }}
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ include "chat.name" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels shared by everything in the release: name and instance only. They never
change between upgrades (selectors are immutable), so nothing version-like goes here.
*/}}
{{- define "chat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "chat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common annotations (metadata.annotations), empty unless commonAnnotations is set.
*/}}
{{- define "chat.annotations" -}}
{{- with .Values.commonAnnotations }}
{{- toYaml . }}
{{- end }}
{{- end }}

{{/* ---------------------------------------------------------------------------------------
Per-component helpers. Each takes a dict: (dict "root" $ "component" "auth").
---------------------------------------------------------------------------------------- */}}

{{/*
The values block of a component (.Values.auth, .Values.chat or .Values.gateway).
Returned as YAML; use `include "chat.component.values" . | fromYaml`.
*/}}
{{- define "chat.component.values" -}}
{{- toYaml (index .root.Values .component) }}
{{- end }}

{{/*
Resource name of a component: <fullname>-<component>, e.g. chat-auth.
*/}}
{{- define "chat.component.fullname" -}}
{{- printf "%s-%s" (include "chat.fullname" .root | trunc 55 | trimSuffix "-") .component }}
{{- end }}

{{/*
Labels of a component's resources: the common labels plus app.kubernetes.io/component.
*/}}
{{- define "chat.component.labels" -}}
{{ include "chat.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Selector labels of a component. The issue asks for selectors on name and instance only, but
the three Deployments of one release would then select each other's pods (and each Service
would load-balance over all three services). app.kubernetes.io/component is therefore part of
every per-component selector; it is fixed per component, so the immutable selector never
changes on upgrade. Release-wide selectors (the ServiceMonitor, NetworkPolicy peers) use
chat.selectorLabels alone.
*/}}
{{- define "chat.component.selectorLabels" -}}
{{ include "chat.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/*
Image reference of a component: [registry/]repository:tag, where an empty tag means the
chart's appVersion and an empty registry falls back to global.imageRegistry.
*/}}
{{- define "chat.component.image" -}}
{{- $image := (index .root.Values .component).image }}
{{- $registry := $image.registry | default .root.Values.global.imageRegistry }}
{{- $tag := $image.tag | default .root.Chart.AppVersion | toString }}
{{- if $registry }}
{{- printf "%s/%s:%s" $registry $image.repository $tag }}
{{- else }}
{{- printf "%s:%s" $image.repository $tag }}
{{- end }}
{{- end }}

{{/*
In-cluster URL of a component's Service, e.g. http://chat-auth:5001.
*/}}
{{- define "chat.component.url" -}}
{{- printf "http://%s:%d" (include "chat.component.fullname" .) (int (index .root.Values .component).service.port) }}
{{- end }}

{{/*
A NetworkPolicy peer / label selector for the service pods of this release (auth, chat,
gateway), not the web client's: the web pod only serves files to browsers and never calls the
services, so it gets no access to them, and it serves no /metrics to scrape.
Takes the root context; indent with nindent.
*/}}
{{- define "chat.servicePodSelector" -}}
matchLabels:
  {{- include "chat.selectorLabels" . | nindent 2 }}
matchExpressions:
  - key: app.kubernetes.io/component
    operator: In
    values: [{{ splitList " " (include "chat.components" .) | join ", " }}]
{{- end }}

{{/* ---------------------------------------------------------------------------------------
Release-wide helpers.
---------------------------------------------------------------------------------------- */}}

{{- define "chat.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "chat.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Secret name and key of the JWT signing key. */}}
{{- define "chat.jwt.secretName" -}}
{{- .Values.auth.jwt.existingSecret | default (printf "%s-jwt" (include "chat.fullname" .)) }}
{{- end }}

{{/* Secret name of the service-to-service shared secret. */}}
{{- define "chat.serviceToken.secretName" -}}
{{- .Values.serviceToken.existingSecret | default (printf "%s-service-token" (include "chat.fullname" .)) }}
{{- end }}

{{/*
A new ECDSA P-256 private key as PKCS#8 PEM ("BEGIN PRIVATE KEY").
Sprig's genPrivateKey "ecdsa" returns SEC1 ("BEGIN EC PRIVATE KEY"), which jose's
importPKCS8 rejects. PKCS#8 is a fixed wrapper around that same SEC1 structure:
  SEQUENCE { INTEGER 0, SEQUENCE { id-ecPublicKey, prime256v1 }, OCTET STRING { <SEC1 DER> } }
For P-256 Go always emits a 121-byte SEC1 DER (fixed-width private key and uncompressed
public key), so the 29-byte header below is constant:
  30 81 93 | 02 01 00 | 30 13 06 07 2a8648ce3d0201 06 08 2a8648ce3d030107 | 04 79
The length is checked, so a change in that assumption fails the render instead of producing
a broken key.
*/}}
{{- define "chat.genPKCS8ECKey" -}}
{{- $sec1 := genPrivateKey "ecdsa" }}
{{- $body := $sec1 | replace "-----BEGIN EC PRIVATE KEY-----" "" | replace "-----END EC PRIVATE KEY-----" "" | nospace }}
{{- $der := b64dec $body }}
{{- if ne (len $der) 121 }}
{{- fail (printf "chat: unexpected SEC1 key length %d from genPrivateKey (expected 121)" (len $der)) }}
{{- end }}
{{- $pkcs8 := print (b64dec "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHk=") $der | b64enc }}
{{- printf "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" (regexFindAll ".{1,64}" $pkcs8 -1 | join "\n") }}
{{- end }}

{{/*
Render-time checks; included once from NOTES.txt-independent templates (deployment.yaml).
*/}}
{{- define "chat.validate" -}}
{{- range $component := splitList " " (include "chat.components" .) }}
{{- $v := index $.Values $component }}
{{- $budget := add $v.preStopSleepSeconds $v.drainSeconds }}
{{- if le (int $v.terminationGracePeriodSeconds) (int $budget) }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v) must be greater than %s.preStopSleepSeconds + %s.drainSeconds (%v): the kubelet would SIGKILL the pod before its drain ends" $component $v.terminationGracePeriodSeconds $component $component $budget) }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- fail (printf "%s.autoscaling.minReplicas (%v) must not exceed maxReplicas (%v)" $component $v.autoscaling.minReplicas $v.autoscaling.maxReplicas) }}
{{- end }}
{{- end }}
{{- if .Values.web.enabled }}
{{- /* server.mjs drains for up to 10 s after SIGTERM. */}}
{{- $budget := add .Values.web.preStopSleepSeconds 10 }}
{{- if le (int .Values.web.terminationGracePeriodSeconds) (int $budget) }}
{{- fail (printf "web.terminationGracePeriodSeconds (%v) must be greater than web.preStopSleepSeconds + 10 s of drain (%v): the kubelet would SIGKILL the server before its drain ends" .Values.web.terminationGracePeriodSeconds $budget) }}
{{- end }}
{{- end }}
{{- if and .Values.serviceToken.existingSecret (not .Values.serviceToken.existingSecretKey) }}
{{- fail "serviceToken.existingSecretKey is required with serviceToken.existingSecret" }}
{{- end }}
{{- end }}
