// Package spectest checks HTTP traffic against Zulip's OpenAPI description
// (shared/zulip/openapi/zulip.yaml beside the repository), for tests. Use it
// with zuliptest.WithMiddleware:
//
//	v := spectest.Load(t)
//	srv := zuliptest.NewServer(zuliptest.WithMiddleware(v.Middleware(t)))
package spectest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// ModulePath is the module whose go.mod marks the repository root.
const ModulePath = "github.com/account-sync/mattermost-plugin-account-sync"

// EnvSharedDir, when set, is the shared directory (the one holding
// zulip/openapi/zulip.yaml), instead of the repository root's sibling
// "shared".
const EnvSharedDir = "ACCOUNT_SYNC_SHARED_DIR"

// Validator checks requests and responses against the spec. It is safe for
// concurrent use.
type Validator struct {
	doc *openapi3.T

	mu      sync.Mutex
	routers map[string]routers.Router // by scheme://host
}

// Load returns a Validator for the shared Zulip spec. It skips the test when
// the spec file cannot be found, and fails it when the file cannot be
// parsed. The parsed spec is cached for the whole test binary.
func Load(tb testing.TB) *Validator {
	tb.Helper()
	path, err := SpecPath()
	if err != nil {
		tb.Skipf("spectest: Zulip OpenAPI spec not available, skipping spec checks: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("spectest: Zulip OpenAPI spec not available at %s (set %s to the directory holding zulip/openapi/zulip.yaml), skipping spec checks: %v",
			path, EnvSharedDir, err)
	}
	doc, err := cachedDoc(path)
	if err != nil {
		tb.Fatalf("spectest: loading %s: %v", path, err)
	}
	return &Validator{doc: doc, routers: make(map[string]routers.Router)}
}

// SpecPath is where Load looks for zulip.yaml: $ACCOUNT_SYNC_SHARED_DIR, or
// the directory "shared" beside the repository root (the directory, at or
// above the working directory, whose go.mod declares ModulePath).
func SpecPath() (string, error) {
	shared := os.Getenv(EnvSharedDir)
	if shared == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		shared = filepath.Join(filepath.Dir(root), "shared")
	}
	return filepath.Join(shared, "zulip", "openapi", "zulip.yaml"), nil
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if modulePathOf(filepath.Join(dir, "go.mod")) == ModulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of module %s at or above %s", ModulePath, wd)
		}
		dir = parent
	}
}

// modulePathOf reads the module line of a go.mod file ("" if none).
func modulePathOf(gomod string) string {
	f, err := os.Open(gomod) //nolint:gosec // a go.mod at or above the working directory
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			if i := strings.Index(rest, "//"); i >= 0 {
				rest = rest[:i]
			}
			return strings.Trim(strings.TrimSpace(rest), "\"`")
		}
	}
	return ""
}

type docEntry struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

var docs sync.Map // path -> *docEntry

func cachedDoc(path string) (*openapi3.T, error) {
	e, _ := docs.LoadOrStore(path, &docEntry{})
	entry := e.(*docEntry)
	entry.once.Do(func() { entry.doc, entry.err = loadDoc(path) })
	return entry.doc, entry.err
}

func loadDoc(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, err
	}
	if doc.Paths == nil || doc.Paths.Value("/users/{email}") == nil {
		return nil, errors.New("the spec has no /users/{email} path")
	}
	if err := patchDoc(doc); err != nil {
		return nil, err
	}
	return doc, nil
}
