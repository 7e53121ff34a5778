// Test-only stand-in for `helm template`: Helm's own template engine (Go's
// text/template + sprig + Helm's extra functions), values coalescing and
// values.schema.json validation, without the helm binary (not installable here).
//
// Build (GOPATH mode, Debian's Go packages):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o renderer main.go
//
// Needs: golang-go golang-github-masterminds-sprig-dev golang-k8s-sigs-yaml-dev
// golang-github-xeipuuv-gojsonschema-dev (gojsonschema is what Helm 3 validates
// values.schema.json with).
//
// Usage:
//
//	renderer --chart DIR [-f values.yaml]... [--name R] [--namespace NS]
//	         [--kube-version v1.20.2] [--api-versions v1,apps/v1,policy/v1beta1/PodDisruptionBudget,...]
//	         [--extra-template FILE]... [--notes]
//
// Prints the rendered manifests as a YAML stream ("---\n# Source: ...\n"), like
// `helm template`; with --notes prints only the rendered NOTES.txt. Exits 1 with
// a message on a template error, a values-schema violation or invalid YAML output.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

// Values is chartutil.Values: .Values is this named map type in Helm (so e.g.
// sprig's `dig` on .Values fails there as it does here).
type Values map[string]interface{}

func (v Values) AsMap() map[string]interface{} { return v }
func (v Values) YAML() (string, error) {
	b, err := yaml.Marshal(v)
	return string(b), err
}

// Metadata is chart.Metadata (the .Chart object): unknown fields are template errors, as in Helm.
type Metadata struct {
	Name         string                   `json:"name"`
	Home         string                   `json:"home,omitempty"`
	Sources      []string                 `json:"sources,omitempty"`
	Version      string                   `json:"version"`
	Description  string                   `json:"description,omitempty"`
	Keywords     []string                 `json:"keywords,omitempty"`
	Maintainers  []map[string]string      `json:"maintainers,omitempty"`
	Icon         string                   `json:"icon,omitempty"`
	APIVersion   string                   `json:"apiVersion"`
	Condition    string                   `json:"condition,omitempty"`
	Tags         string                   `json:"tags,omitempty"`
	AppVersion   string                   `json:"appVersion,omitempty"`
	Deprecated   bool                     `json:"deprecated,omitempty"`
	Annotations  map[string]string        `json:"annotations,omitempty"`
	KubeVersion  string                   `json:"kubeVersion,omitempty"`
	Dependencies []map[string]interface{} `json:"dependencies,omitempty"`
	Type         string                   `json:"type,omitempty"`
}

type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (kv *KubeVersion) String() string     { return kv.Version }
func (kv *KubeVersion) GitVersion() string { return kv.Version }

// VersionSet is chartutil.VersionSet: "group/version" and "group/version/Kind" entries.
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

// Files is the chart's non-template files (.Files).
type Files map[string][]byte

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) Glob(pattern string) Files {
	re := globRegexp(pattern)
	out := Files{}
	for k, v := range f {
		if re.MatchString(k) {
			out[k] = v
		}
	}
	return out
}
func (f Files) AsConfig() string {
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = string(v)
	}
	return toYAML(m)
}
func (f Files) AsSecrets() string {
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = base64.StdEncoding.EncodeToString(v)
	}
	return toYAML(m)
}
func (f Files) Lines(name string) []string {
	if f[name] == nil {
		return []string{}
	}
	return strings.Split(string(f[name]), "\n")
}

// globRegexp: "*" and "?" stay within one path segment, "**" crosses them (gobwas/glob with '/').
func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '*' && i+1 < len(pattern) && pattern[i+1] == '*':
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// --- Helm's extra template functions (pkg/engine/funcs.go) ---

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(str string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(str), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(str string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(str), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(str string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(str), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

const recursionMaxNums = 1000

func funcMap(t *template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	included := map[string]int{}
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["fromJsonArray"] = fromJSONArray
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if included[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		included[name]++
		err := t.ExecuteTemplate(&buf, name, data)
		included[name]--
		return buf.String(), err
	}
	f["required"] = func(warn string, val interface{}) (interface{}, error) {
		if val == nil {
			return val, errors.New(warn)
		}
		if s, ok := val.(string); ok && s == "" {
			return val, errors.New(warn)
		}
		return val, nil
	}
	// No cluster: lookup finds nothing, as in `helm template`.
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["tpl"] = func(text string, vals interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		clone.Option("missingkey=zero")
		clone.Funcs(funcMap(clone))
		name := "tpl"
		if m, ok := vals.(map[string]interface{}); ok {
			if tm, ok := m["Template"].(map[string]interface{}); ok {
				if n, ok := tm["Name"].(string); ok {
					name = n
				}
			}
		}
		parsed, err := clone.New(name).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

// --- values ---

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// mergeMaps merges user values files left to right (later wins, maps merge).
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if am, ok := out[k].(map[string]interface{}); ok {
				out[k] = mergeMaps(am, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// coalesce is chartutil.CoalesceValues for one chart: the user's values win,
// maps merge deeply, lists are replaced, a user `null` deletes a default.
func coalesce(user, defaults map[string]interface{}) map[string]interface{} {
	for k, dv := range defaults {
		uv, present := user[k]
		if !present {
			user[k] = dv
			continue
		}
		if uv == nil {
			delete(user, k)
			continue
		}
		um, uok := uv.(map[string]interface{})
		dm, dok := dv.(map[string]interface{})
		if uok && dok {
			user[k] = coalesce(um, dm)
		}
	}
	return user
}

func validateSchema(chartDir, chartName string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	doc, err := json.Marshal(values)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	if result.Valid() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", chartName)
	for _, e := range result.Errors() {
		fmt.Fprintf(&b, "- %s: %s\n", e.Field(), e.Description())
	}
	return errors.New(b.String())
}

// --- chart files ---

type ignoreRule struct {
	re      *regexp.Regexp
	dirOnly bool
	negate  bool
}

func loadIgnore(chartDir string) []ignoreRule {
	data, err := os.ReadFile(filepath.Join(chartDir, ".helmignore"))
	if err != nil {
		return nil
	}
	var rules []ignoreRule
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly = true
			line = strings.TrimSuffix(line, "/")
		}
		r.re = globRegexp(strings.TrimPrefix(line, "/"))
		rules = append(rules, r)
	}
	return rules
}

// ignored: a rule matches the whole relative path or its base name (like .helmignore).
func ignored(rules []ignoreRule, rel string, isDir bool) bool {
	out := false
	for _, r := range rules {
		if r.dirOnly && !isDir {
			continue
		}
		if r.re.MatchString(rel) || r.re.MatchString(path.Base(rel)) {
			out = !r.negate
		}
	}
	return out
}

type chartData struct {
	meta      Metadata
	defaults  map[string]interface{}
	templates map[string]string // name "<chart>/templates/x.yaml" -> text
	files     Files
}

func loadChart(dir string) (*chartData, error) {
	c := &chartData{templates: map[string]string{}, files: Files{}}
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	if err := yaml.UnmarshalStrict(raw, &c.meta); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	if c.meta.APIVersion != "v2" || c.meta.Name == "" || c.meta.Version == "" {
		return nil, errors.New("Chart.yaml: apiVersion v2, name and version are required")
	}
	if !strictSemver.MatchString(c.meta.Version) {
		return nil, fmt.Errorf("Chart.yaml: version %q is not strict SemVer 2", c.meta.Version)
	}
	c.defaults = map[string]interface{}{}
	if _, err := os.Stat(filepath.Join(dir, "values.yaml")); err == nil {
		if c.defaults, err = readYAMLMap(filepath.Join(dir, "values.yaml")); err != nil {
			return nil, err
		}
	}
	rules := loadIgnore(dir)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignored(rules, rel, info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			c.templates[c.meta.Name+"/"+rel] = string(data)
		case rel == "Chart.yaml" || rel == "values.yaml" || rel == "values.schema.json" || rel == "Chart.lock" || strings.HasPrefix(rel, "charts/"):
		default:
			c.files[rel] = data
		}
		return nil
	})
	return c, err
}

// --- rendering ---

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

var strictSemver = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
var kubeVersionRe = regexp.MustCompile(`^v?(\d+)\.(\d+)(\.\d+)?(.*)$`)

var docSplit = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "Error: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	var valueFiles, extraTemplates multiFlag
	chartDir := flag.String("chart", "", "chart directory")
	release := flag.String("name", "rollback-receiver", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.30.0", "Kubernetes version (.Capabilities.KubeVersion)")
	apiVersions := flag.String("api-versions", "", "comma-separated .Capabilities.APIVersions (group/version and group/version/Kind)")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt instead of the manifests")
	flag.Var(&valueFiles, "f", "values file (repeatable; later files win)")
	flag.Var(&extraTemplates, "extra-template", "extra template file rendered with the chart's (repeatable; for tests)")
	flag.Parse()
	if *chartDir == "" {
		die("--chart is required")
	}

	chart, err := loadChart(*chartDir)
	if err != nil {
		die("%v", err)
	}

	user := map[string]interface{}{}
	for _, f := range valueFiles {
		m, err := readYAMLMap(f)
		if err != nil {
			die("%v", err)
		}
		user = mergeMaps(user, m)
	}
	values := coalesce(user, chart.defaults)
	if err := validateSchema(*chartDir, chart.meta.Name, values); err != nil {
		die("%v", err)
	}

	kv := kubeVersionRe.FindStringSubmatch(*kubeVersion)
	if kv == nil {
		die("--kube-version %q is not a version like v1.20.2", *kubeVersion)
	}
	gitVersion := "v" + strings.TrimPrefix(*kubeVersion, "v")
	if chart.meta.KubeVersion != "" {
		// Helm checks Chart.yaml kubeVersion with Masterminds/semver, as sprig's semverCompare does.
		semverCompare := sprig.GenericFuncMap()["semverCompare"].(func(string, string) (bool, error))
		ok, err := semverCompare(chart.meta.KubeVersion, gitVersion)
		if err != nil {
			die("Chart.yaml kubeVersion %q: %v", chart.meta.KubeVersion, err)
		}
		if !ok {
			die("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", chart.meta.KubeVersion, gitVersion)
		}
	}
	var versions VersionSet
	if *apiVersions == "" {
		versions = VersionSet{"v1", "apps/v1", "policy/v1", "policy/v1/PodDisruptionBudget", "rbac.authorization.k8s.io/v1",
			"networking.k8s.io/v1", "autoscaling/v2", "batch/v1"}
	} else {
		for _, v := range strings.Split(*apiVersions, ",") {
			if v = strings.TrimSpace(v); v != "" {
				versions = append(versions, v)
			}
		}
	}
	caps := &Capabilities{
		KubeVersion: KubeVersion{Version: gitVersion, Major: kv[1], Minor: kv[2]},
		APIVersions: versions,
		HelmVersion: map[string]string{"Version": "v3.14.0-renderer"},
	}

	for _, f := range extraTemplates {
		data, err := os.ReadFile(f)
		if err != nil {
			die("%v", err)
		}
		chart.templates[chart.meta.Name+"/templates/"+filepath.Base(f)] = string(data)
	}

	t := template.New("gotpl")
	t.Option("missingkey=zero")
	t.Funcs(funcMap(t))
	names := make([]string, 0, len(chart.templates))
	for n := range chart.templates {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := t.New(n).Parse(chart.templates[n]); err != nil {
			die("parse error in %v", err)
		}
	}

	basePath := chart.meta.Name + "/templates"
	render := func(name string) string {
		top := map[string]interface{}{
			"Values":       Values(values),
			"Release":      map[string]interface{}{"Name": *release, "Namespace": *namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1},
			"Chart":        &chart.meta,
			"Capabilities": caps,
			"Files":        chart.files,
			"Template":     map[string]interface{}{"Name": name, "BasePath": basePath},
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, top); err != nil {
			die("%v", err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", "")
	}

	if *notes {
		name := basePath + "/NOTES.txt"
		if _, ok := chart.templates[name]; !ok {
			die("chart has no templates/NOTES.txt")
		}
		fmt.Print(render(name))
		return
	}

	var out bytes.Buffer
	for _, n := range names {
		base := path.Base(n)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" {
			continue
		}
		for _, doc := range docSplit.Split(render(n), -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			head := map[string]interface{}{}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				die("YAML parse error on %s: %v", n, err)
			}
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", n, strings.TrimSpace(doc))
		}
	}
	os.Stdout.Write(out.Bytes())
}
