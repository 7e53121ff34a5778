{{/*
The chart name, truncated to 63 characters (DNS label).
*/}}
{{- define "rollback-receiver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name when it already contains the chart name.
*/}}
{{- define "rollback-receiver.fullname" -}}
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

{{- define "rollback-receiver.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the life of the release (Deployment selectors are immutable).
*/}}
{{- define "rollback-receiver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollback-receiver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "rollback-receiver.labels" -}}
helm.sh/chart: {{ include "rollback-receiver.chart" . }}
{{ include "rollback-receiver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: alert-receiver
app.kubernetes.io/part-of: rollback-receiver
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "rollback-receiver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rollback-receiver.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Secret holding the tokens: `auth.existingSecret`, or the chart's own.
*/}}
{{- define "rollback-receiver.secretName" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecret }}
{{- else }}
{{- printf "%s-tokens" (include "rollback-receiver.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
Key of the webhook token in that Secret.
*/}}
{{- define "rollback-receiver.webhookTokenKey" -}}
{{- if .Values.auth.existingSecret }}
{{- required "auth.existingSecretKeys.webhookToken is required with auth.existingSecret" .Values.auth.existingSecretKeys.webhookToken }}
{{- else -}}
webhook-token
{{- end }}
{{- end }}

{{/*
Key of the operator token in that Secret; empty when operator routes stay disabled.
*/}}
{{- define "rollback-receiver.operatorTokenKey" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecretKeys.operatorToken }}
{{- else if .Values.auth.operatorTokenEnabled -}}
operator-token
{{- end }}
{{- end }}

{{/*
The image reference: repository:tag (tag defaults to the appVersion), or @digest.
*/}}
{{- define "rollback-receiver.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
ROLLBACK_DRY_RUN: the product's default is dry-run, so only an explicit
`rollback.dryRun: false` makes it "false" (never `default true`: it turns false into true).
*/}}
{{- define "rollback-receiver.dryRun" -}}
{{- $rollback := .Values.rollback | default dict }}
{{- if and (hasKey $rollback "dryRun") (eq (toString $rollback.dryRun) "false") -}}
false
{{- else -}}
true
{{- end }}
{{- end }}

{{/*
The receiver's config file (ROLLBACK_CONFIG): the receiver's own blocks of the
values, rendered as they are. The receiver rejects unknown keys, and so does
values.schema.json; a block left empty is omitted (the receiver's defaults apply).
*/}}
{{- define "rollback-receiver.config" -}}
{{- $config := dict }}
{{- range $key := list "rollback" "monitoring" "notifications" "execution" "environments" "report" "server" "store" }}
{{- $block := index $.Values $key }}
{{- if $block }}
{{- $_ := set $config $key $block }}
{{- end }}
{{- end }}
{{- if .Values.auth.allowUnauthenticatedWebhook }}
{{- $_ := set $config "auth" (dict "allowUnauthenticatedWebhook" true) }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/*
Contract with templates/prometheusrule.yaml (generated):

  include "rollback-receiver.triggerEnabled" (list . "errorRateThreshold")
    renders "true" when .Values.rollback.triggers (a list of single-key maps such as
    {errorRateThreshold: 0.1}) has an entry with that key, or when the list is empty or
    absent (the receiver's default: every trigger enabled); otherwise renders nothing.
*/}}
{{- define "rollback-receiver.triggerEnabled" -}}
{{- $root := index . 0 }}
{{- $key := index . 1 }}
{{- $triggers := (($root.Values.rollback | default dict).triggers) | default list }}
{{- $enabled := not $triggers }}
{{- range $entry := $triggers }}
{{- if and (kindIs "map" $entry) (hasKey $entry $key) }}
{{- $enabled = true }}
{{- end }}
{{- end }}
{{- if $enabled -}}
true
{{- end }}
{{- end }}

{{/*
  include "rollback-receiver.threshold" (list . "errorRateThreshold" "0.1")
    renders that key's value from .Values.rollback.triggers (the last entry with it), or
    the given default string. Whole numbers print without an exponent (5000, not 5e+03).
*/}}
{{- define "rollback-receiver.threshold" -}}
{{- $root := index . 0 }}
{{- $key := index . 1 }}
{{- $value := index . 2 }}
{{- $triggers := (($root.Values.rollback | default dict).triggers) | default list }}
{{- range $entry := $triggers }}
{{- if and (kindIs "map" $entry) (hasKey $entry $key) }}
{{- $value = index $entry $key }}
{{- end }}
{{- end }}
{{- if and (kindIs "float64" $value) (eq (floor $value) $value) }}
{{- int64 $value }}
{{- else }}
{{- $value }}
{{- end }}
{{- end }}
