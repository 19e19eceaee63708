package proxy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/kvapi"
	"github.com/kvclass/kvclass/registry"
)

func TestParseSeedConfig(t *testing.T) {
	// The seed's proxy/localhost_config.yml, unchanged.
	seed := `mode: sharding
nodes:
  - name: kv1
    url: http://localhost:5000
  - name: kv2
    url: http://localhost:5001
  - name: kv3
    url: http://localhost:5002
`
	f, err := ParseFile("localhost_config.yml", []byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	want := &File{Mode: Sharding, WriteQuorum: 1, Nodes: []registry.Static{
		{Name: "kv1", URL: "http://localhost:5000"},
		{Name: "kv2", URL: "http://localhost:5001"},
		{Name: "kv3", URL: "http://localhost:5002"},
	}}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got %+v\nwant %+v", f, want)
	}
}

func TestParsePlainURLsAndQuorum(t *testing.T) {
	f, err := ParseFile("c.yml", []byte("mode: replication\nwrite_quorum: 2\nnodes:\n  - http://10.0.0.1:5000\n  - https://kv.example.org\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Mode != Replication || f.WriteQuorum != 2 || len(f.Nodes) != 2 ||
		f.Nodes[0] != (registry.Static{Name: "10.0.0.1:5000", URL: "http://10.0.0.1:5000"}) ||
		f.Nodes[1].Name != "kv.example.org" {
		t.Fatalf("%+v", f)
	}
	for _, empty := range []string{"", "\n# nothing\n", "nodes:\n", "mode: sharding\n"} {
		f, err := ParseFile("c.yml", []byte(empty))
		if err != nil || f.Mode != Sharding || len(f.Nodes) != 0 {
			t.Errorf("%q: %+v, %v", empty, f, err)
		}
	}
}

func TestConfigErrorsNameTheLine(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{"mode: sharding\nmdoe: replication\n", `c.yml:2: unknown field "mdoe"`},
		{"mode: hashing\n", `c.yml:1: unknown mode "hashing"`},
		{"nodes:\n  - name: kv1\n    url: http://a:1\n  - name: kv1\n    url: http://b:1\n", `c.yml:4: node name "kv1" is used twice (first on line 2)`},
		{"nodes:\n  - name: kv1\n    url: ftp://a\n", `c.yml:2: bad node URL: "ftp://a": only http:// and https:// URLs are accepted`},
		{"nodes:\n  - name: kv1\n    url: http://\n", `has no host`},
		{"nodes:\n  - name: kv1\n    url: http://u:p@a:1\n", `may not carry a user name or password`},
		{"nodes:\n  - name: kv1\n", `c.yml:2: bad node URL: the URL is empty`},
		{"nodes:\n  - name: kv1\n    url: http://a:1\n    weight: 3\n", `c.yml:4: unknown node field "weight"`},
		{"nodes:\n  - name: kv1\n    url: http://a:99999\n", `c.yml:2: bad node URL: port "99999" is not a port number`},
		{"nodes:\n  - name: kv1\n    url: http://a:1/x\n", `c.yml:2: bad node URL: "http://a:1/x": a node URL has no path`},
		{"nodes:\n  - name: 'bad name!'\n    url: http://a:1\n", `c.yml:2:`},
		{"nodes: http://a:1\n", `c.yml:1: nodes must be a list`},
		{"write_quorum: 0\n", `c.yml:1: write_quorum must be a whole number of at least 1`},
		{"mode: [1\n", `c.yml:`},
		{"- a\n- b\n", `must be a mapping`},
		{"mode: sharding\nmode: replication\n", `c.yml:2: field "mode" appears twice`},
	}
	for _, tc := range cases {
		_, err := ParseFile("c.yml", []byte(tc.yaml))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line containing %q", tc.yaml, err, tc.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "proxy.yml")
	os.WriteFile(path, []byte("mode: replication\n"), 0o644)
	if f, err := LoadFile(path); err != nil || f.Mode != Replication {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := LoadFile(path + ".missing"); err == nil {
		t.Fatal("a missing file loaded")
	}
}

// FuzzParseFile checks that no config text crashes the parser and that every
// failure is a one-line *ConfigError.
func FuzzParseFile(f *testing.F) {
	f.Add("mode: sharding\nnodes:\n  - name: kv1\n    url: http://localhost:5000\n")
	f.Add("mode: replication\nwrite_quorum: 2\nnodes: [http://a:1, {name: b, url: 'https://b'}]\n")
	f.Add("nodes:\n  - &a {name: x, url: http://x}\n  - *a\n")
	f.Add("mode: !!binary aGVsbG8=\n")
	f.Add("? [a]\n: b\n")
	f.Fuzz(func(t *testing.T, text string) {
		file, err := ParseFile("f.yml", []byte(text))
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("%q: error of type %T: %v", text, err, err)
			}
			return
		}
		if file.Mode != Sharding && file.Mode != Replication || file.WriteQuorum < 1 {
			t.Fatalf("%q: accepted %+v", text, file)
		}
		seen := map[string]bool{}
		for _, n := range file.Nodes {
			if seen[n.Name] || n.Name == "" {
				t.Fatalf("%q: bad node list %+v", text, file.Nodes)
			}
			seen[n.Name] = true
			if _, err := kvapi.ParseNodeURL(n.URL); err != nil {
				t.Fatalf("%q: accepted a bad URL: %v", text, err)
			}
		}
	})
}

// TestSeedConfigFileParses: the README's walkthrough runs
// `kvclass proxy -c proxy/localhost_config.yml`, the seed's file at the
// seed's path.
func TestSeedConfigFileParses(t *testing.T) {
	f, err := LoadFile("localhost_config.yml")
	if err != nil {
		t.Fatal(err)
	}
	if f.Mode != Sharding || len(f.Nodes) != 3 || f.Nodes[0].Name != "kv1" || f.Nodes[2].URL != "http://localhost:5002" {
		t.Fatalf("localhost_config.yml: %+v", f)
	}
}
