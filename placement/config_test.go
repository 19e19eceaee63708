package placement

import (
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestParseStrategy(t *testing.T) {
	cases := []struct {
		in   string
		want Strategy
		err  string
	}{
		{"modulo", Modulo, ""},
		{"ring", Ring, ""},
		{"rendezvous", Rendezvous, ""},
		{" Ring ", Ring, ""},
		{"RENDEZVOUS", Rendezvous, ""},
		{"", "", "placement is empty: use modulo, ring or rendezvous"},
		{"consistent", "", `unknown placement "consistent": use modulo, ring or rendezvous`},
		{"hrw", "", "use modulo, ring or rendezvous"},
	}
	for _, c := range cases {
		got, err := ParseStrategy(c.in)
		if c.err != "" {
			if err == nil || !contains(err.Error(), c.err) {
				t.Errorf("ParseStrategy(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseStrategy(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestStrategyText: one parser for flags, the config file and the admin
// API's JSON.
func TestStrategyText(t *testing.T) {
	var s Strategy
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.TextVar(&s, "placement", Modulo, "modulo, ring or rendezvous")
	if err := fs.Parse([]string{"--placement", "ring"}); err != nil || s != Ring {
		t.Fatalf("flag: %q, %v", s, err)
	}
	if err := fs.Parse([]string{"--placement", "nope"}); err == nil || !contains(err.Error(), "use modulo, ring or rendezvous") {
		t.Fatalf("bad flag: %v", err)
	}

	var cfg Config
	if err := json.Unmarshal([]byte(`{"placement": "ring", "vnodes": 128}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg != (Config{Strategy: Ring, VNodes: 128}) {
		t.Fatalf("decoded %+v", cfg)
	}
	if err := json.Unmarshal([]byte(`{"placement": "ringg"}`), &cfg); err == nil || !contains(err.Error(), "use modulo, ring or rendezvous") {
		t.Fatalf("bad JSON placement: %v", err)
	}
	b, _ := json.Marshal(Config{})
	if string(b) != `{}` {
		t.Errorf("zero Config encodes as %s", b)
	}
	b, _ = json.Marshal(Config{Strategy: Rendezvous, Replicas: 2})
	if string(b) != `{"placement":"rendezvous","replicas":2}` {
		t.Errorf("Config encodes as %s", b)
	}
	if Strategy("").String() != "modulo" {
		t.Errorf("zero Strategy says %q", Strategy(""))
	}
}

func TestConfigNormalize(t *testing.T) {
	cases := []struct {
		in   Config
		want Config
		err  string
	}{
		{Config{}, Config{Modulo, 64, 1}, ""},
		{Config{Strategy: Ring}, Config{Ring, 64, 1}, ""},
		{Config{Strategy: "Ring", VNodes: 1, Replicas: 3}, Config{Ring, 1, 3}, ""},
		{Config{Strategy: Rendezvous, VNodes: 1024, Replicas: 1024}, Config{Rendezvous, 1024, 1024}, ""},
		{Config{VNodes: 1025}, Config{}, "vnodes must be between 1 and 1024"},
		{Config{VNodes: -1}, Config{}, "vnodes must be between 1 and 1024"},
		{Config{Replicas: -2}, Config{}, "replicas must be between 1 and 1024"},
		{Config{Replicas: 5000}, Config{}, "replicas must be between 1 and 1024"},
		{Config{Strategy: "jump"}, Config{}, `unknown placement "jump": use modulo, ring or rendezvous`},
	}
	for _, c := range cases {
		got, err := c.in.Normalize()
		if c.err != "" {
			if err == nil || !contains(err.Error(), c.err) {
				t.Errorf("%+v: error %v, want %q", c.in, err, c.err)
			}
			if err2 := c.in.Validate(); err2 == nil {
				t.Errorf("%+v: Validate passed", c.in)
			}
			if _, err3 := New(c.in, []string{"kv1"}); err3 == nil {
				t.Errorf("%+v: New accepted it", c.in)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}
