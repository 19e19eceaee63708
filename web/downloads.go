package web

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kvclass/kvclass/kvapi"
)

// Download is one file a student can download from the /join page: a
// release archive of kvclass for one system, or the release's checksums.
type Download struct {
	// Name is the file's name, e.g. "kvclass_0.2.0_linux_amd64.tar.gz".
	Name string `json:"name"`
	// OS is GOOS ("linux", "darwin", "windows", ...); empty for the
	// checksums file.
	OS string `json:"os"`
	// Arch is GOARCH ("amd64", "arm64", "386", "armv7", ...); empty for the
	// checksums file.
	Arch string `json:"arch"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// Href is where the page links it: DownloadPath + the escaped name for
	// a listed file, or any http(s) URL the proxy chooses (a release page).
	Href string `json:"href"`
}

// DownloadPath is the path under which JoinPage serves listed files.
const DownloadPath = "/join/download/"

// archiveExts are the archive formats GoReleaser writes.
var archiveExts = []string{".tar.gz", ".tgz", ".tar.xz", ".zip"}

// knownOS and knownArch are the GOOS and GOARCH words an archive name may
// end with; GoReleaser's "title case" template spells some differently
// (Linux, Darwin, x86_64, i386), which parseArchive maps back.
var (
	knownOS   = []string{"linux", "darwin", "windows", "freebsd", "openbsd", "netbsd", "android"}
	knownArch = map[string]string{
		"amd64": "amd64", "x86_64": "amd64", "arm64": "arm64", "aarch64": "arm64",
		"386": "386", "i386": "386", "arm": "arm", "armv5": "armv5", "armv6": "armv6", "armv7": "armv7",
		"riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x", "loong64": "loong64",
		"mips64": "mips64", "mips64le": "mips64le",
	}
)

// parseArchive reads the system of a GoReleaser archive name,
// PROJECT_VERSION_OS_ARCH.EXT (kvclass_0.2.0_linux_amd64.tar.gz,
// kvclass_0.2.0_windows_arm64.zip, also kvclass_Linux_x86_64.tar.gz). It
// returns ok false for any other name.
func parseArchive(name string) (goos, goarch string, ok bool) {
	base := ""
	for _, ext := range archiveExts {
		if b, found := strings.CutSuffix(name, ext); found {
			base = b
			break
		}
	}
	// x86_64 is GoReleaser's title-case spelling of amd64: one word.
	if b, found := strings.CutSuffix(base, "_x86_64"); found {
		base = b + "_amd64"
	}
	parts := strings.Split(base, "_")
	if len(parts) < 3 || parts[0] == "" {
		return "", "", false
	}
	goos = strings.ToLower(parts[len(parts)-2])
	goarch, ok = knownArch[strings.ToLower(parts[len(parts)-1])]
	if !ok || !slices.Contains(knownOS, goos) {
		return "", "", false
	}
	return goos, goarch, true
}

// isChecksums tells the checksums file of a release (checksums.txt,
// kvclass_0.2.0_checksums.txt).
func isChecksums(name string) bool {
	return name == "checksums.txt" || strings.HasSuffix(name, "_checksums.txt")
}

// ListDownloads lists the release archives in dir, as GoReleaser names
// them, and its checksums file: regular files only (no folders, no
// symbolic links), in the order Linux, macOS, Windows, others, then by
// architecture, checksums last. Other files are left out, and JoinPage
// serves none of them. An empty dir ("") lists nothing.
func ListDownloads(dir string) ([]Download, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Download
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		name := e.Name()
		if !servableName(name) {
			continue
		}
		goos, goarch, ok := parseArchive(name)
		if !ok && !isChecksums(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Download{Name: name, OS: goos, Arch: goarch, Size: info.Size(), Href: DownloadPath + url.PathEscape(name)})
	}
	slices.SortFunc(out, func(a, b Download) int {
		return cmp.Or(cmp.Compare(osRank(a.OS), osRank(b.OS)), cmp.Compare(a.OS, b.OS),
			cmp.Compare(archRank(a.Arch), archRank(b.Arch)), cmp.Compare(a.Arch, b.Arch), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func osRank(goos string) int {
	switch goos {
	case "linux":
		return 0
	case "darwin":
		return 1
	case "windows":
		return 2
	case "":
		return 4 // checksums
	}
	return 3
}

func archRank(goarch string) int {
	switch goarch {
	case "amd64":
		return 0
	case "arm64":
		return 1
	}
	return 2
}

// servableName tells a file name that can travel in one URL path segment
// and names nothing outside its folder: no separators (of any system),
// not "." or "..", no control characters, valid UTF-8.
func servableName(name string) bool {
	if name == "" || strings.ContainsAny(name, `/\`) || !fs.ValidPath(name) || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// downloadType is the Content-Type of a listed file.
func downloadType(name string) string {
	switch {
	case strings.HasSuffix(name, ".zip"):
		return "application/zip"
	case strings.HasSuffix(name, ".tar.gz"), strings.HasSuffix(name, ".tgz"):
		return "application/gzip"
	case strings.HasSuffix(name, ".tar.xz"):
		return "application/x-xz"
	case strings.HasSuffix(name, ".txt"):
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// serveDownload serves DownloadPath+NAME: NAME must be exactly the name of
// a file that ListDownloads(dir) lists now. Anything else (another file in
// dir, "..", an encoded slash, a symbolic link) is 404, and the file is
// opened through an os.Root of dir, so no name can leave it.
func serveDownload(w http.ResponseWriter, r *http.Request, dir string) {
	name, _ := strings.CutPrefix(r.URL.Path, DownloadPath)
	notFound := func() { kvapi.WriteError(w, kvapi.Errorf(http.StatusNotFound, "no such download")) }
	if dir == "" || !servableName(name) {
		notFound()
		return
	}
	list, err := ListDownloads(dir)
	if err != nil || !slices.ContainsFunc(list, func(d Download) bool { return d.Name == name }) {
		notFound()
		return
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		notFound()
		return
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		notFound()
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		notFound()
		return
	}
	h := w.Header()
	SetSecurityHeaders(h)
	h.Set("Content-Type", downloadType(name))
	disp := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if disp == "" {
		disp = "attachment"
	}
	h.Set("Content-Disposition", disp)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

// errNoDownloads is what CheckDownloads says of a folder with no archive.
var errNoDownloads = errors.New("no release archives (kvclass_VERSION_OS_ARCH.tar.gz or .zip) in the folder")

// CheckDownloads is for the proxy's --downloads DIR at startup: it lists
// dir and fails with a clear error when the folder cannot be read or holds
// no release archive.
func CheckDownloads(dir string) ([]Download, error) {
	list, err := ListDownloads(dir)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(list, func(d Download) bool { return d.OS != "" }) {
		return nil, fmt.Errorf("%s: %w", dir, errNoDownloads)
	}
	return list, nil
}
