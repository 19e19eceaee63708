package proxy_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kvclass/kvclass/proxy"
)

// secrets is the part of the state that LoadState makes up when missing.
type secrets struct{ ClassCode, AdminToken string }

func loadSecrets(path, classCode, adminToken string) (secrets, error) {
	f, err := proxy.LoadState(path, classCode, adminToken)
	if err != nil {
		return secrets{}, err
	}
	st := f.State()
	return secrets{st.ClassCode, st.AdminToken}, nil
}

var classCodeForm = regexp.MustCompile(`^[a-z]+-[a-z]+-[1-9][0-9]$`)

func TestSecretsGeneratedPersistedReloaded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kvclass", "proxy-state.json")
	s, err := loadSecrets(path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if !classCodeForm.MatchString(s.ClassCode) {
		t.Fatalf("class code %q is not adjective-noun-NN", s.ClassCode)
	}
	if len(s.AdminToken) < 40 {
		t.Fatalf("admin token %q is too short", s.AdminToken)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %o, want 600", info.Mode().Perm())
	}
	if dir, _ := os.Stat(filepath.Dir(path)); dir.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %o, want 700", dir.Mode().Perm())
	}
	again, err := loadSecrets(path, "", "")
	if err != nil || again != s {
		t.Fatalf("reloaded %+v, %v; want %+v", again, err, s)
	}
	// Flag values override and are saved; the other value stays.
	over, err := loadSecrets(path, "my-class-code", "")
	if err != nil || over.ClassCode != "my-class-code" || over.AdminToken != s.AdminToken {
		t.Fatalf("override: %+v, %v", over, err)
	}
	if again, _ := loadSecrets(path, "", ""); again != over {
		t.Fatalf("override not saved: %+v", again)
	}
	over, err = loadSecrets(path, "", "an-admin-token-of-my-own")
	if err != nil || over.AdminToken != "an-admin-token-of-my-own" || over.ClassCode != "my-class-code" {
		t.Fatalf("admin override: %+v, %v", over, err)
	}
	// No temporary files are left beside it.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d entries, want 1", len(entries))
	}
}

func TestClassCodesDiffer(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		seen[proxy.NewClassCode()] = true
	}
	if len(seen) < 45 {
		t.Fatalf("50 class codes gave only %d distinct values", len(seen))
	}
}

func TestSecretsRefusals(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.json")
	if err := os.WriteFile(loose, []byte(`{"class_code":"a-b-12","admin_token":"xxxxxxxxxxxxxxxxxxxx"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecrets(loose, "", ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable state file: %v, want a refusal naming chmod 600", err)
	}
	if err := os.Chmod(loose, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := loadSecrets(loose, "", ""); err != nil || s.ClassCode != "a-b-12" {
		t.Fatalf("after chmod: %+v, %v", s, err)
	}
	corrupt := filepath.Join(dir, "corrupt.json")
	if err := os.WriteFile(corrupt, []byte(`{"class_code":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadSecrets(corrupt, "", ""); err == nil {
		t.Fatal("a corrupt state file was accepted")
	}
	if data, _ := os.ReadFile(corrupt); string(data) != `{"class_code":` {
		t.Fatal("a corrupt state file was overwritten")
	}
	fresh := filepath.Join(dir, "fresh.json")
	for _, bad := range [][2]string{{"a b c d", ""}, {"abc", ""}, {"", "short"}, {"", "with space in the token"}} {
		if _, err := loadSecrets(fresh, bad[0], bad[1]); err == nil {
			t.Errorf("LoadSecrets accepted class code %q, admin token %q", bad[0], bad[1])
		}
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Fatal("a refused flag value still wrote the state file")
	}
}

func TestDefaultStatePath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/tmp/kvclass-test-config")
	t.Setenv("HOME", "/tmp/kvclass-test-home")
	path, err := proxy.DefaultStatePath()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(path, filepath.Join("kvclass", "proxy-state.json")) {
		t.Fatalf("DefaultStatePath() = %q", path)
	}
}
