{{/* vim: set filetype=mustache: */}}
{{/*
Container environment. Kubernetes expands $(VAR) in `value` from variables defined EARLIER in
the same list, so the password parts (secretKeyRef) always precede the URL that uses them,
and the password never appears in the rendered manifest.
*/}}

{{/* Variables every service reads. Takes (dict "root" $ "component" "auth"). */}}
{{- define "chat.env.common" -}}
{{- $root := .root }}
{{- $v := index $root.Values .component }}
- name: NODE_ENV
  value: production
- name: PORT
  value: {{ int $v.containerPort | quote }}
- name: METRICS_PORT
  value: {{ int $v.metricsPort | quote }}
- name: LOG_LEVEL
  value: {{ $v.logLevel | default $root.Values.logLevel | quote }}
- name: SHUTDOWN_GRACE_MS
  value: {{ mul (int $v.drainSeconds) 1000 | quote }}
- name: JWT_ISSUER
  value: {{ $root.Values.jwt.issuer | quote }}
- name: JWT_AUDIENCE
  value: {{ $root.Values.jwt.audience | quote }}
- name: SERVICE_TOKEN_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "chat.serviceToken.secretName" $root }}
      key: {{ $root.Values.serviceToken.existingSecretKey }}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}

{{/* MONGO_URL from parts. Takes the root context. */}}
{{- define "chat.env.mongodb" -}}
{{- $m := .Values.mongodb }}
{{- $query := list }}
{{- if $m.auth.enabled }}
{{- $query = append $query (printf "authSource=%s" $m.auth.authSource) }}
- name: MONGO_USERNAME
  value: {{ $m.auth.username | quote }}
- name: MONGO_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $m.auth.existingSecret }}
      key: {{ $m.auth.existingSecretPasswordKey }}
{{- end }}
{{- with $m.options }}
{{- $query = append $query . }}
{{- end }}
- name: MONGO_URL
  value: {{ printf "mongodb://%s%s:%v/%s" (ternary "$(MONGO_USERNAME):$(MONGO_PASSWORD)@" "" $m.auth.enabled) $m.host (int $m.port) (ternary (printf "?%s" (join "&" $query)) "" (gt (len $query) 0)) | quote }}
{{- end }}

{{/* AMQP_URL from parts. Takes the root context. */}}
{{- define "chat.env.rabbitmq" -}}
{{- $r := .Values.rabbitmq }}
{{- $vhost := ternary "" (printf "/%s" ($r.vhost | urlquery)) (eq $r.vhost "/") }}
- name: AMQP_USERNAME
  value: {{ $r.auth.username | quote }}
- name: AMQP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $r.auth.existingSecret }}
      key: {{ $r.auth.existingSecretPasswordKey }}
- name: AMQP_URL
  value: {{ printf "%s://$(AMQP_USERNAME):$(AMQP_PASSWORD)@%s:%v%s" $r.scheme $r.host (int $r.port) $vhost | quote }}
{{- end }}

{{- define "chat.env.auth" -}}
{{- $v := .Values.auth }}
{{ include "chat.env.mongodb" . | trim }}
- name: MONGO_DB
  value: {{ $v.mongodb.database | quote }}
- name: JWT_PRIVATE_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "chat.jwt.secretName" . }}
      key: {{ $v.jwt.existingSecretKey }}
{{- with $v.jwt.previousPublicKey }}
- name: JWT_PREVIOUS_PUBLIC_KEY
  value: {{ . | quote }}
{{- end }}
- name: JWT_TTL_SECONDS
  value: {{ int $v.jwt.ttlSeconds | quote }}
- name: BCRYPT_COST
  value: {{ int $v.bcryptCost | quote }}
- name: BCRYPT_MAX_CONCURRENT
  value: {{ int $v.bcryptMaxConcurrent | quote }}
- name: BCRYPT_MAX_QUEUED
  value: {{ int $v.bcryptMaxQueued | quote }}
- name: ADMISSION_MAX_IN_FLIGHT
  value: {{ int $v.admission.maxInFlight | quote }}
- name: ADMISSION_MAX_WAIT_MS
  value: {{ int $v.admission.maxWaitMs | quote }}
- name: TRUST_PROXY_HOPS
  value: {{ int $v.trustProxyHops | quote }}
- name: ADDRESS_ATTEMPTS_PER_MINUTE
  value: {{ int $v.addressLimits.attemptsPerMinute | quote }}
- name: ADDRESS_REGISTRATIONS_PER_HOUR
  value: {{ int $v.addressLimits.registrationsPerHour | quote }}
- name: LOGIN_MAX_FAILURES
  value: {{ int $v.login.maxFailures | quote }}
- name: LOGIN_FAILURE_WINDOW_SECONDS
  value: {{ int $v.login.failureWindowSeconds | quote }}
- name: LOGIN_DELAY_AFTER_FAILURES
  value: {{ int $v.login.delayAfterFailures | quote }}
- name: LOGIN_DELAY_MAX_SECONDS
  value: {{ int $v.login.delayMaxSeconds | quote }}
- name: LOGIN_KNOWN_ADDRESS_DAYS
  value: {{ int $v.login.knownAddressDays | quote }}
{{ include "chat.env.cors" . | trim }}
{{- end }}

{{/*
CORS_ORIGINS for Auth and Chat: the browser pages allowed to call them. Always rendered, so an
empty list visibly means "no CORS" rather than "whatever the image defaults to".
*/}}
{{- define "chat.env.cors" -}}
- name: CORS_ORIGINS
  value: {{ join "," .Values.cors.allowedOrigins | quote }}
{{- end }}

{{- define "chat.env.chat" -}}
{{ include "chat.env.mongodb" . | trim }}
- name: MONGO_DB
  value: {{ .Values.chat.mongodb.database | quote }}
{{ include "chat.env.rabbitmq" . | trim }}
- name: AUTH_URL
  value: {{ include "chat.component.url" (dict "root" . "component" "auth") | quote }}
{{ include "chat.env.cors" . | trim }}
- name: RECEIPTS_MAX_MEMBERS
  value: {{ int .Values.chat.receiptsMaxMembers | quote }}
- name: ADMISSION_MAX_IN_FLIGHT
  value: {{ int .Values.chat.admission.maxInFlight | quote }}
- name: ADMISSION_MAX_WAIT_MS
  value: {{ int .Values.chat.admission.maxWaitMs | quote }}
- name: ADMISSION_ANSWER_WITHIN_MS
  value: {{ int .Values.chat.admission.answerWithinMs | quote }}
{{ include "chat.env.presence" . | trim }}
{{- end }}

{{/*
Presence timing, the same for the gateways and Chat (they run the same presence table).
*/}}
{{- define "chat.env.presence" -}}
- name: PRESENCE_GRACE_MS
  value: {{ int .Values.presence.graceMs | quote }}
- name: PRESENCE_TIMEOUT_MS
  value: {{ int .Values.presence.timeoutMs | quote }}
{{- end }}

{{- define "chat.env.gateway" -}}
{{- $v := .Values.gateway }}
{{ include "chat.env.rabbitmq" . | trim }}
- name: AUTH_URL
  value: {{ include "chat.component.url" (dict "root" . "component" "auth") | quote }}
- name: CHAT_URL
  value: {{ include "chat.component.url" (dict "root" . "component" "chat") | quote }}
{{- /* The pages allowed to call Auth and Chat also open the WebSocket: one list for both. */}}
- name: ALLOWED_ORIGINS
  value: {{ concat .Values.cors.allowedOrigins $v.allowedOrigins | uniq | join "," | quote }}
- name: MAX_FRAMES_PER_SECOND
  value: {{ int $v.maxFramesPerSecond | quote }}
- name: REPLAY_LIMIT
  value: {{ int $v.replayLimit | quote }}
- name: TYPING_MAX_MEMBERS
  value: {{ int $v.typingMaxMembers | quote }}
- name: MAX_SOCKETS_PER_USER
  value: {{ int $v.connectionLimits.perUser | quote }}
- name: MAX_SOCKETS_PER_ADDRESS
  value: {{ int $v.connectionLimits.perAddress | quote }}
- name: TRUST_PROXY_HOPS
  value: {{ int $v.connectionLimits.trustProxyHops | quote }}
{{ include "chat.env.presence" . | trim }}
{{- end }}
