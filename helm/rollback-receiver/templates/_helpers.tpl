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
{{- if or .Values.auth.webhookToken .Values.auth.operatorToken }}
{{- fail "auth: set auth.existingSecret or the tokens (auth.webhookToken, auth.operatorToken), not both: with an existing Secret the tokens in values would be ignored" }}
{{- end }}
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
Key of the operator token in that Secret; empty when there is none (operator routes answer 403).
*/}}
{{- define "rollback-receiver.operatorTokenKey" -}}
{{- if .Values.auth.existingSecret }}
{{- .Values.auth.existingSecretKeys.operatorToken }}
{{- else if .Values.auth.operatorToken -}}
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
{{- range $key := list "state" "rollback" "monitoring" "alertmanager" "notifications" "execution" "gitops" "environments" "report" "server" "store" "shutdown" }}
{{- $block := index $.Values $key }}
{{- if $block }}
{{- $_ := set $config $key $block }}
{{- end }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/*
The chart's mode: the receiver's state.backend as the receiver reads the rendered config
(no state block, or no backend in it: the receiver's own default, sqlite).
  kubernetes  replicas share the guards' state through Leases and ConfigMaps
  sqlite      one replica, the state in one SQLite file on the chart's volume
*/}}
{{- define "rollback-receiver.stateBackend" -}}
{{- (.Values.state | default dict).backend | default "sqlite" }}
{{- end }}

{{/*
The namespace of the Leases and state ConfigMaps (kubernetes mode): state.namespace, else
the release namespace (the receiver's POD_NAMESPACE).
*/}}
{{- define "rollback-receiver.stateNamespace" -}}
{{- (.Values.state | default dict).namespace | default .Release.Namespace }}
{{- end }}

{{/*
  include "rollback-receiver.receiverSeconds" (list . "<block>" "<key>" <default seconds>)
    a duration of the receiver's config, .Values.<block>.<key>, in whole seconds; the
    receiver's own default when the values leave it out.
*/}}
{{- define "rollback-receiver.receiverSeconds" -}}
{{- $root := index . 0 }}
{{- $block := index $root.Values (index . 1) | default dict }}
{{- $key := index . 2 }}
{{- $value := ternary (index $block $key) (index . 3) (hasKey $block $key) }}
{{- include "rollback-receiver.seconds" (list $value (printf "%s.%s" (index . 1) $key)) }}
{{- end }}

{{/*
The pod's terminationGracePeriodSeconds: the receiver's shutdown.grace (how long SIGTERM
waits for running rollbacks, default 60 s) plus terminationGraceMargin.
*/}}
{{- define "rollback-receiver.terminationGracePeriodSeconds" -}}
{{- $grace := include "rollback-receiver.receiverSeconds" (list . "shutdown" "grace" 60) | int64 }}
{{- add $grace (include "rollback-receiver.seconds" (list .Values.terminationGraceMargin "terminationGraceMargin") | int64) }}
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
{{- include "rollback-receiver.number" $value }}
{{- end }}

{{/*
  include "rollback-receiver.number" VALUE
    a number as PromQL reads it: whole numbers without an exponent (5000, not 5e+03).
*/}}
{{- define "rollback-receiver.number" -}}
{{- if and (kindIs "float64" .) (eq (floor .) .) }}
{{- int64 . }}
{{- else }}
{{- . }}
{{- end }}
{{- end }}

{{/*
  include "rollback-receiver.seconds" (list VALUE "key.path")
    a duration as the receiver reads it (a number of seconds, or "90s", "5m", "1h30m", "1d"),
    in whole seconds; anything else fails the render naming the key.
*/}}
{{- define "rollback-receiver.seconds" -}}
{{- $value := index . 0 }}
{{- $key := index . 1 }}
{{- if kindIs "string" $value }}
{{- if not (regexMatch "^([0-9]+[dhms])+$" $value) }}
{{- fail (printf "%s: %q is not a duration (use seconds, or d, h, m and s as in \"90s\", \"5m\", \"1h30m\")" $key $value) }}
{{- end }}
{{- $unit := dict "d" 86400 "h" 3600 "m" 60 "s" 1 }}
{{- $total := 0 }}
{{- range $part := regexFindAll "[0-9]+[dhms]" $value -1 }}
{{- $total = add $total (mul (trimSuffix (regexFind "[dhms]$" $part) $part | int) (index $unit (regexFind "[dhms]$" $part))) }}
{{- end }}
{{- $total }}
{{- else if or (kindIs "float64" $value) (kindIs "int64" $value) (kindIs "int" $value) }}
{{- if lt (float64 $value) 0.0 }}
{{- fail (printf "%s: %v is negative" $key $value) }}
{{- end }}
{{- ceil $value | int64 }}
{{- else }}
{{- fail (printf "%s: expected seconds or a duration like \"60s\", got %v" $key $value) }}
{{- end }}
{{- end }}

{{/*
  include "rollback-receiver.promDuration" SECONDS
    whole seconds as a Prometheus duration: 4m, 90s, 2h.
*/}}
{{- define "rollback-receiver.promDuration" -}}
{{- $s := int64 . }}
{{- if and (gt $s 0) (eq (mod $s 3600) 0) }}
{{- div $s 3600 }}h
{{- else if and (gt $s 0) (eq (mod $s 60) 0) }}
{{- div $s 60 }}m
{{- else }}
{{- $s }}s
{{- end }}
{{- end }}

{{/*
  include "rollback-receiver.ruleParam" (list . "<name>")
    the numbers of the alert rules marked `# param: <name>` (scripts/rules/generate.ts,
    RULE_PARAMS), from .Values.prometheusRule and the receiver's own values:
      minRequestRate        prometheusRule.minRequestRate (requests per second)
      probeIntervalSeconds  prometheusRule.probeInterval, in seconds
      healthCheckWindow     max(4, healthCheckFailures + 1) probe intervals: at least 4 times
                            the probe interval, and long enough to count a streak of N
      healthCheckStep       a quarter of the probe interval (the subquery sees every probe)
      stuckRollbackSeconds  rollback.executionTimeout (default 600) + 300
      revertedSeconds       prometheusRule.revertedFor, in seconds
*/}}
{{- define "rollback-receiver.ruleParam" -}}
{{- $root := index . 0 }}
{{- $name := index . 1 }}
{{- $rules := $root.Values.prometheusRule }}
{{- $probe := include "rollback-receiver.seconds" (list $rules.probeInterval "prometheusRule.probeInterval") | int64 }}
{{- if lt $probe 4 }}
{{- fail (printf "prometheusRule.probeInterval: %v is shorter than 4s; it is the blackbox probes' scrape interval" $rules.probeInterval) }}
{{- end }}
{{- if eq $name "minRequestRate" }}
{{- include "rollback-receiver.number" $rules.minRequestRate }}
{{- else if eq $name "probeIntervalSeconds" }}
{{- $probe }}
{{- else if eq $name "healthCheckWindow" }}
{{- $failures := include "rollback-receiver.threshold" (list $root "healthCheckFailures" "3") | int64 }}
{{- include "rollback-receiver.promDuration" (mul (max 4 (add1 $failures)) $probe) }}
{{- else if eq $name "healthCheckStep" }}
{{- include "rollback-receiver.promDuration" (div $probe 4) }}
{{- else if eq $name "stuckRollbackSeconds" }}
{{- add (include "rollback-receiver.receiverSeconds" (list $root "rollback" "executionTimeout" 600) | int64) 300 }}
{{- else if eq $name "revertedSeconds" }}
{{- include "rollback-receiver.seconds" (list $rules.revertedFor "prometheusRule.revertedFor") }}
{{- else }}
{{- fail (printf "internal: no rule parameter %q in rollback-receiver.ruleParam" $name) }}
{{- end }}
{{- end }}
