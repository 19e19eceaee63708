package web

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
)

// releaseDir writes a folder as `goreleaser release` leaves it, plus files
// that must never be listed or served, and returns it with the archives'
// contents by name.
func releaseDir(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"kvclass_0.2.0_linux_amd64.tar.gz":   "linux amd64 bytes\x00\x01",
		"kvclass_0.2.0_linux_arm64.tar.gz":   "linux arm64 bytes",
		"kvclass_0.2.0_darwin_amd64.tar.gz":  "darwin amd64 bytes",
		"kvclass_0.2.0_darwin_arm64.tar.gz":  "darwin arm64 bytes",
		"kvclass_0.2.0_windows_amd64.zip":    "PK windows amd64",
		"kvclass_0.2.0_windows_arm64.zip":    "PK windows arm64",
		"kvclass_0.2.0_checksums.txt":        "abc  kvclass_0.2.0_linux_amd64.tar.gz\n",
		"kvclass_0.2.0_freebsd_amd64.tar.gz": "freebsd",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{
		"README.md":                             "not a release",
		"kvclass_0.2.0_linux_arm\\64.tar.gz":    "a backslash",
		"kvclass_0.2.0\x01_linux_arm64.tar.gz":  "a control character",
		"secret.txt":                            "the admin token",
		"kvclass_0.2.0_linux_amd64.tar.gz.sbom": "sbom",
		"kvclass_0.2.0_plan9_amd64.tar.gz":      "unknown system",
		"kvclass_0.2.0_linux_amd64.exe":         "not an archive",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "kvclass_0.2.0_linux_386.tar.gz"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A link that looks like an archive and leads out of the folder.
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "kvclass_0.2.0_linux_riscv64.tar.gz")); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

func TestListDownloads(t *testing.T) {
	dir, files := releaseDir(t)
	list, err := ListDownloads(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range list {
		got = append(got, fmt.Sprintf("%s %s/%s %d %s", d.Name, d.OS, d.Arch, d.Size, d.Href))
	}
	want := []string{
		"kvclass_0.2.0_linux_amd64.tar.gz linux/amd64 19 /join/download/kvclass_0.2.0_linux_amd64.tar.gz",
		"kvclass_0.2.0_linux_arm64.tar.gz linux/arm64 17 /join/download/kvclass_0.2.0_linux_arm64.tar.gz",
		"kvclass_0.2.0_darwin_amd64.tar.gz darwin/amd64 18 /join/download/kvclass_0.2.0_darwin_amd64.tar.gz",
		"kvclass_0.2.0_darwin_arm64.tar.gz darwin/arm64 18 /join/download/kvclass_0.2.0_darwin_arm64.tar.gz",
		"kvclass_0.2.0_windows_amd64.zip windows/amd64 16 /join/download/kvclass_0.2.0_windows_amd64.zip",
		"kvclass_0.2.0_windows_arm64.zip windows/arm64 16 /join/download/kvclass_0.2.0_windows_arm64.zip",
		"kvclass_0.2.0_freebsd_amd64.tar.gz freebsd/amd64 7 /join/download/kvclass_0.2.0_freebsd_amd64.tar.gz",
		"kvclass_0.2.0_checksums.txt / 38 /join/download/kvclass_0.2.0_checksums.txt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListDownloads:\n got %q\nwant %q", got, want)
	}
	if len(list) != len(files) {
		t.Errorf("listed %d files, want the %d release files", len(list), len(files))
	}

	// GoReleaser's other naming, and names that are not archives.
	for name, want := range map[string]string{
		"kvclass_Linux_x86_64.tar.gz":        "linux/amd64",
		"kvclass_Darwin_arm64.tar.gz":        "darwin/arm64",
		"kvclass_Windows_i386.zip":           "windows/386",
		"kvclass_1.0.0-rc.1_linux_armv7.tgz": "linux/armv7",
		"kvclass_linux_amd64.tar.gz":         "linux/amd64",
		"linux_amd64.tar.gz":                 "",
		"_linux_amd64.tar.gz":                "",
		"kvclass_0.2.0_linux_amd64":          "",
		"kvclass_0.2.0_linux_amd64.rpm":      "",
		"kvclass_0.2.0_beos_amd64.zip":       "",
		"kvclass_0.2.0_linux_z80.zip":        "",
	} {
		goos, goarch, ok := parseArchive(name)
		if got := goos + "/" + goarch; ok != (want != "") || ok && got != want {
			t.Errorf("parseArchive(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}

	if list, err := ListDownloads(""); err != nil || list != nil {
		t.Errorf(`ListDownloads("") = %v, %v`, list, err)
	}
	if _, err := ListDownloads(filepath.Join(dir, "missing")); err == nil {
		t.Error("ListDownloads of a missing folder: no error")
	}
	if _, err := CheckDownloads(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no release archives") {
		t.Errorf("CheckDownloads of an empty folder: %v", err)
	}
	if l, err := CheckDownloads(dir); err != nil || len(l) != len(files) {
		t.Errorf("CheckDownloads: %d files, %v", len(l), err)
	}
}

// joinServer serves page as the proxy mounts it: /join and everything
// under /join/, by path prefix, with no ServeMux cleaning the path first.
func joinServer(t *testing.T, page *JoinPage) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case p == JoinPath || strings.HasPrefix(p, JoinPath+"/"):
			page.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/assets/"):
			Assets().ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// rawGet sends "GET target" exactly as written, on a fresh connection, and
// returns the status and body: no client cleans or re-escapes target.
func rawGet(t *testing.T, srv *httptest.Server, target string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, srv.Listener.Addr())
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func TestJoinDownloads(t *testing.T) {
	dir, files := releaseDir(t)
	srv := joinServer(t, NewJoinPage(JoinOptions{Downloads: dir}))

	types := map[string]string{".gz": "application/gzip", ".zip": "application/zip", ".txt": "text/plain; charset=utf-8"}
	for name, body := range files {
		status, h, got := rawGet(t, srv, DownloadPath+name)
		if status != 200 || got != body {
			t.Errorf("GET %s: %d %q, want 200 %q", name, status, got, body)
			continue
		}
		if want := types[filepath.Ext(name)]; h.Get("Content-Type") != want {
			t.Errorf("%s: Content-Type %q, want %q", name, h.Get("Content-Type"), want)
		}
		if want := `attachment; filename=` + name; h.Get("Content-Disposition") != want {
			t.Errorf("%s: Content-Disposition %q, want %q", name, h.Get("Content-Disposition"), want)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
	}

	// Nothing else leaves the folder: not its other files, not a link, not
	// a folder, not any path that climbs out, however it is spelled.
	for _, target := range []string{
		"/join/download/../../etc/passwd",
		"/join/download/..%2F..%2Fetc%2Fpasswd",
		"/join/download/%2e%2e/%2e%2e/etc/passwd",
		"/join/download/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/join/download/..%5C..%5Cetc%5Cpasswd",
		"/join/download/..\\..\\etc\\passwd",
		"/join/download/%252e%252e%252fetc%252fpasswd",
		"/join/download/%2Fetc%2Fpasswd",
		"/join/download//etc/passwd",
		"/join/download/kvclass_0.2.0_linux_amd64.tar.gz/../../../../etc/passwd",
		"/join/download/./kvclass_0.2.0_linux_amd64.tar.gz",
		"/join/download/..",
		"/join/download/.",
		"/join/download/",
		"/join/download/README.md",
		"/join/download/secret.txt",
		"/join/download/kvclass_0.2.0_linux_amd64.tar.gz.sbom",
		"/join/download/kvclass_0.2.0_linux_riscv64.tar.gz", // the link to /etc/passwd
		"/join/download/kvclass_0.2.0_linux_386.tar.gz",     // a folder
		"/join/download/kvclass_0.2.0_linux_amd64.tar.gz%00",
		"/join/download/KVCLASS_0.2.0_LINUX_AMD64.TAR.GZ",
		"/join/downloadkvclass_0.2.0_linux_amd64.tar.gz",
		"/join/../join/download/secret.txt",
	} {
		status, _, body := rawGet(t, srv, target)
		if status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", target, status)
		}
		if strings.Contains(body, "root:") || strings.Contains(body, "admin token") {
			t.Errorf("GET %s leaked %q", target, body)
		}
	}

	// Without --downloads nothing is served.
	bare := joinServer(t, NewJoinPage(JoinOptions{}))
	if status, _, _ := rawGet(t, bare, DownloadPath+"kvclass_0.2.0_linux_amd64.tar.gz"); status != http.StatusNotFound {
		t.Errorf("a download without a folder: %d", status)
	}
	// Only GET and HEAD.
	resp, err := http.Post(srv.URL+JoinPath, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /join: %d", resp.StatusCode)
	}
}

func TestJoinPageHTML(t *testing.T) {
	dir, _ := releaseDir(t)
	evil := `kvclass_<script>window.__pwned=1;<script>_linux_arm64.tar.gz`
	if err := os.WriteFile(filepath.Join(dir, evil), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	info := JoinInfo{
		URL: "https://kvclass-demo.ngrok-free.dev/",
		Lines: []JoinLine{
			{Kind: JoinRelay, Line: `kvclass node --relay --join https://kvclass-demo.ngrok-free.dev --token 4711`},
			{Kind: JoinNgrok, Line: `kvclass node --ngrok --join https://kvclass-demo.ngrok-free.dev --token "<b>4711</b>"`},
			{Kind: "<i>odd</i>", Line: "kvclass node --join http://10.0.0.1:5003 --token 4711"},
		},
	}
	page := NewJoinPage(JoinOptions{Downloads: dir, Info: func() JoinInfo { return info }})
	resp, body := get(t, page, "GET", JoinPath, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /join: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, JoinPath, resp.Header)
	for _, want := range []string{
		`<code id="page-url" class="page-url">https://kvclass-demo.ngrok-free.dev/join</code>`,
		`>kvclass node --relay --join https://kvclass-demo.ngrok-free.dev --token 4711</code>`,
		`--token &#34;&lt;b&gt;4711&lt;/b&gt;&#34;</code>`,
		`data-i18n="line-plain"`,
		`kvclass_&lt;script&gt;window.__pwned=1;&lt;script&gt;_linux_arm64.tar.gz`,
		`href="/join/download/kvclass_%3Cscript%3Ewindow.__pwned=1%3B%3Cscript%3E_linux_arm64.tar.gz"`,
		`>` + GoInstall + `</code>`,
		`macOS · Apple Silicon`,
		`src="/join/qr.svg"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(body, "<script>window") || strings.Contains(body, "<b>4711") || strings.Contains(body, "<i>odd") {
		t.Error("the page carries markup from its data")
	}
	if regexp.MustCompile(`<script(\s[^>]*)?>\s*[^<\s]`).MatchString(body) || regexp.MustCompile(`(?i)\s(on\w+|style)\s*=`).MatchString(body) {
		t.Error("the page has an inline script, handler or style")
	}
	// The evil name downloads like any listed file.
	srv := joinServer(t, page)
	if status, _, got := rawGet(t, srv, "/join/download/kvclass_%3Cscript%3Ewindow.__pwned=1%3B%3Cscript%3E_linux_arm64.tar.gz"); status != 200 || got != "x" {
		t.Errorf("the listed file with markup in its name: %d %q", status, got)
	}

	// Hidden lines: ask the instructor; the class code is not on the page.
	info.Hidden = true
	_, body = get(t, page, "GET", JoinPath, nil)
	if !strings.Contains(body, "Ask the instructor") || strings.Contains(body, "4711") {
		t.Error("hidden join lines: the page shows the code or does not say to ask")
	}
	// No lines (a proxy that has none yet): ask too.
	info = JoinInfo{}
	_, body = get(t, page, "GET", JoinPath+"/", nil)
	if !strings.Contains(body, "Ask the instructor") {
		t.Error("no join lines: the page does not say to ask")
	}

	// Downloads the proxy lists itself; an unsafe link is neutralised.
	info = JoinInfo{Downloads: []Download{
		{Name: "</li><script>alert(1)</script>", OS: "linux", Arch: "amd64", Size: 5, Href: "javascript:alert(1)"},
		{Name: "kvclass_0.2.0_darwin_arm64.tar.gz", OS: "darwin", Arch: "arm64", Size: 5 << 20, Href: "https://github.com/kvclass/kvclass/releases/download/v0.2.0/kvclass_0.2.0_darwin_arm64.tar.gz"},
	}}
	_, body = get(t, page, "GET", JoinPath, nil)
	if strings.Contains(body, "javascript:") || strings.Contains(body, "<script>alert") {
		t.Error("the page carries an unsafe link or markup from the proxy's downloads")
	}
	for _, want := range []string{`href="https://github.com/kvclass/kvclass/releases/download/v0.2.0/kvclass_0.2.0_darwin_arm64.tar.gz"`, `>5.0 MiB<`, `&lt;/li&gt;&lt;script&gt;`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}

	// Without a public URL, the page's address is the request's.
	r := httptest.NewRequest("GET", "http://192.168.1.10:5003/join", nil)
	if got := pageURL(r, JoinInfo{}); got != "http://192.168.1.10:5003/join" {
		t.Errorf("pageURL of a LAN request = %q", got)
	}
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Host = "class.ngrok-free.dev"
	if got := pageURL(r, JoinInfo{}); got != "https://class.ngrok-free.dev/join" {
		t.Errorf("pageURL behind a tunnel = %q", got)
	}
	r.Host = "evil.example/<script>"
	if got := pageURL(r, JoinInfo{}); got != "https://localhost/join" {
		t.Errorf("pageURL of a bad Host = %q", got)
	}

	// Any other path is 404.
	if resp, _ := get(t, page, "GET", "/join/other", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /join/other: %d", resp.StatusCode)
	}
}

func TestJoinQRCode(t *testing.T) {
	page := NewJoinPage(JoinOptions{Info: func() JoinInfo { return JoinInfo{URL: "https://kvclass-demo.ngrok-free.dev"} }})
	resp, body := get(t, page, "GET", QRPath, nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("GET %s: %d %s", QRPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, QRPath, resp.Header)

	// The SVG is well formed, and draws exactly the QR code of the page's
	// address.
	var svg struct {
		ViewBox string `xml:"viewBox,attr"`
		Path    struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(body), &svg); err != nil {
		t.Fatalf("the QR code is not well-formed SVG: %v", err)
	}
	q, err := qrcode.New("https://kvclass-demo.ngrok-free.dev/join", qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	want := q.Bitmap()
	n := len(want)
	if svg.ViewBox != fmt.Sprintf("0 0 %d %d", n, n) {
		t.Fatalf("viewBox %q, want %d modules", svg.ViewBox, n)
	}
	got := make([][]bool, n)
	for i := range got {
		got[i] = make([]bool, n)
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`).FindAllStringSubmatch(svg.Path.D, -1) {
		var x, y, w int
		fmt.Sscan(m[1], &x)
		fmt.Sscan(m[2], &y)
		fmt.Sscan(m[3], &w)
		for i := x; i < x+w; i++ {
			got[y][i] = true
		}
	}
	for y := range n {
		if !slices.Equal(got[y], want[y]) {
			t.Fatalf("row %d of the QR code differs", y)
		}
	}
}
