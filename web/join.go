package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/kvclass/kvclass/kvapi"
)

// This file is the proxy's /join page: how a student gets kvclass and joins
// the class, with a QR code of the page's own address for the projector.
// The proxy fills a JoinInfo and mounts a JoinPage at /join and /join/.

//go:embed templates/join.html
var templates embed.FS

// Kinds of JoinLine: the page words each one for the student who should
// use it.
const (
	// JoinRelay: no ngrok account needed; the node reaches the class
	// through the proxy (`kvclass node --relay ...`).
	JoinRelay = "relay"
	// JoinNgrok: the student's own ngrok account (NGROK_AUTHTOKEN set;
	// `kvclass node --ngrok ...`).
	JoinNgrok = "ngrok"
	// JoinLAN: the classroom's own network (`kvclass node --host 0.0.0.0 ...`).
	JoinLAN = "lan"
)

// GoInstall is the other way to get kvclass, for a student with Go.
const GoInstall = "go install github.com/kvclass/kvclass/cmd/kvclass@latest"

// JoinPath is where the proxy mounts JoinPage: the page itself; its QR code
// and downloads live under JoinPath + "/".
const JoinPath = "/join"

// QRPath is the QR code of the /join page's address, an SVG image.
const QRPath = "/join/qr.svg"

// JoinLine is one line a student pastes to join, and who it is for.
type JoinLine struct {
	Kind string `json:"kind"` // JoinRelay, JoinNgrok, JoinLAN, or "" (a plain line)
	Line string `json:"line"` // e.g. "kvclass node --relay --join https://class.ngrok-free.dev --token 4711"
}

// JoinInfo is what the /join page shows. The proxy fills it per request
// (its public address may appear only once its tunnel is up).
type JoinInfo struct {
	// URL is the proxy's public base URL ("https://class.ngrok-free.dev").
	// Empty: the address the request came to (its Host, and https when it
	// came over TLS or with X-Forwarded-Proto: https).
	URL string
	// Lines are the join lines, in the order shown: typically JoinRelay
	// (no account) then JoinNgrok (own account).
	Lines []JoinLine
	// Hidden hides the lines (they hold the class code): the page says to
	// ask the instructor instead.
	Hidden bool
	// Downloads are the files offered. Nil: the files of
	// JoinOptions.Downloads, listed by ListDownloads at each request.
	Downloads []Download
}

// JoinOptions configures a JoinPage.
type JoinOptions struct {
	// Info returns what the page shows; it is called for every request of
	// the page and of its QR code. Nil shows no lines.
	Info func() JoinInfo
	// Downloads is the folder of release archives (`kvclass proxy
	// --downloads DIR`); "" offers no downloads. Only files that
	// ListDownloads lists in it are served, under DownloadPath.
	Downloads string
}

// JoinPage serves the /join page (JoinPath), its QR code (QRPath) and the
// downloads (DownloadPath + NAME). Make one with NewJoinPage.
type JoinPage struct {
	opts JoinOptions
	tmpl *template.Template
}

// NewJoinPage returns the handler of /join and everything under /join/.
func NewJoinPage(opts JoinOptions) *JoinPage {
	tmpl := template.Must(template.New("join.html").ParseFS(templates, "templates/join.html"))
	return &JoinPage{opts: opts, tmpl: tmpl}
}

// ServeHTTP routes /join, /join/qr.svg and /join/download/NAME; any other
// path under /join/ is 404.
func (j *JoinPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		kvapi.WriteError(w, kvapi.Errorf(http.StatusMethodNotAllowed, "use GET"))
		return
	}
	switch p := r.URL.Path; {
	case p == JoinPath || p == JoinPath+"/":
		j.page(w, r)
	case p == QRPath:
		j.qr(w, r)
	case strings.HasPrefix(p, DownloadPath):
		serveDownload(w, r, j.opts.Downloads)
	default:
		kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "no such page"))
	}
}

func (j *JoinPage) info() JoinInfo {
	if j.opts.Info == nil {
		return JoinInfo{}
	}
	return j.opts.Info()
}

// pageURL is the address of the /join page that the QR code holds.
func pageURL(r *http.Request, info JoinInfo) string {
	base := strings.TrimRight(info.URL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		host := r.Host
		if !validHost(host) {
			host = "localhost"
		}
		base = scheme + "://" + host
	}
	return base + JoinPath
}

// validHost accepts a Host header made of a host name or address and a
// port, nothing else.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)
		if !ok {
			return false
		}
	}
	return true
}

// joinView is the template's data.
type joinView struct {
	PageURL   string
	Hidden    bool
	Lines     []joinLineView
	Downloads []downloadView
	GoInstall string
}

type joinLineView struct {
	Kind  string // "relay", "ngrok", "lan" or "plain": picks the label's words
	Label string // English; join.js translates by Kind
	Line  string
}

type downloadView struct {
	Download
	System   string // "Linux · x86-64", "macOS · Apple Silicon"; "" for checksums
	SizeText string
}

func (j *JoinPage) page(w http.ResponseWriter, r *http.Request) {
	info := j.info()
	v := joinView{PageURL: pageURL(r, info), Hidden: info.Hidden, GoInstall: GoInstall}
	for _, l := range info.Lines {
		if strings.TrimSpace(l.Line) == "" {
			continue
		}
		kind := l.Kind
		if kind != JoinRelay && kind != JoinNgrok && kind != JoinLAN {
			kind = "plain"
		}
		v.Lines = append(v.Lines, joinLineView{Kind: kind, Label: joinLabels[kind], Line: l.Line})
	}
	downloads := info.Downloads
	if downloads == nil {
		downloads, _ = ListDownloads(j.opts.Downloads) // an unreadable folder offers nothing
	}
	for _, d := range downloads {
		v.Downloads = append(v.Downloads, downloadView{Download: d, System: systemLabel(d.OS, d.Arch), SizeText: sizeText(d.Size)})
	}
	var b bytes.Buffer
	if err := j.tmpl.Execute(&b, v); err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusInternalServerError, "join page: "+err.Error()))
		return
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.Write(b.Bytes())
}

// joinLabels are the English labels of the join lines; join.js has both
// languages.
var joinLabels = map[string]string{
	JoinRelay: "No ngrok account? Paste this line:",
	JoinNgrok: "With your own ngrok account (NGROK_AUTHTOKEN set):",
	JoinLAN:   "On the classroom network:",
	"plain":   "Paste this line in a terminal:",
}

// systemLabel names a release's system for people: "macOS · Apple Silicon".
func systemLabel(goos, goarch string) string {
	if goos == "" {
		return ""
	}
	osName := map[string]string{"linux": "Linux", "darwin": "macOS", "windows": "Windows", "freebsd": "FreeBSD",
		"openbsd": "OpenBSD", "netbsd": "NetBSD", "android": "Android"}[goos]
	if osName == "" {
		osName = goos
	}
	arch := map[string]string{"amd64": "x86-64", "arm64": "ARM64", "386": "x86 32-bit", "arm": "ARM 32-bit",
		"armv5": "ARMv5", "armv6": "ARMv6", "armv7": "ARMv7"}[goarch]
	if goos == "darwin" {
		arch = map[string]string{"amd64": "Intel", "arm64": "Apple Silicon"}[goarch]
	}
	if arch == "" {
		arch = goarch
	}
	return osName + " · " + arch
}

// sizeText is a size for people, in English (join.js rewords it).
func sizeText(n int64) string {
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1024*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + " MiB"
}

// qr serves the QR code of the page's address as SVG.
func (j *JoinPage) qr(w http.ResponseWriter, r *http.Request) {
	svg, err := QRCodeSVG(pageURL(r, j.info()))
	if err != nil {
		kvapi.WriteError(w, kvapi.Errorf(http.StatusInternalServerError, "QR code: "+err.Error()))
		return
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "no-cache")
	w.Write(svg)
}

// qrModulePixels is the size of one QR module in the SVG's intrinsic size
// (the page scales the image; this only sets its natural size).
const qrModulePixels = 8

// QRCodeSVG returns text as a QR code (medium error correction, with the
// standard 4-module quiet zone): an SVG of black modules on white, one
// path, crisp edges.
func QRCodeSVG(text string) ([]byte, error) {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	bm := q.Bitmap()
	n := len(bm)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" shape-rendering="crispEdges">`,
		n, n, n*qrModulePixels, n*qrModulePixels)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes(), nil
}
