package auth_test

// Permission-table coverage, read from the source: the application layer
// (internal/server) must check exactly the actions the permission table
// lists, through the one permission check, and nothing outside the
// application layer may change label or application state behind the
// decision gate. A reviewer relies on these to read the access policy in
// one place (roles.go, policy.go) and trust it is the whole story.
//
// Decisions documented here:
//   - "Uses" of an action are the auth.Action* constants passed as the
//     action argument to allow (internal/server/gate.go), auth.Allow or
//     auth.Can, plus those in gate.go's stepActions, labelActions and findingResponses tables
//     (whose entries reach allow through a variable). Any other mention of
//     an auth.Action* constant in internal/server is a failure: it would be
//     a permission decided somewhere else.
//   - auth.Can may be called outside internal/auth only in internal/web, to
//     show or hide a control (a button, a form); the request it leads to is
//     still decided by the server through auth.Allow. auth.Allow is called
//     outside internal/auth only by internal/server/gate.go's allow.
//   - The store's state-changing writes (WriteLabelChanges, WriteAppChange,
//     WriteIssue, and the logged declarations WriteTarget and WriteReport)
//     are called, outside internal/store and tests, only from
//     internal/server/gate.go (decideStep, decideLabels),
//     internal/server/labels.go's issueLabel and internal/server/targets.go
//     (decideTarget, decideReport), each reached only through Decide. Calls are matched by method
//     name: the names are Hallmark's own and distinctive.

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hallmark-iot/hallmark/internal/auth"
)

// repoRoot is the module root, two levels up from internal/auth.
const repoRoot = "../.."

// parsed is one non-test Go file of the module.
type parsed struct {
	path string // slash-separated, relative to the module root
	file *ast.File
	auth string // the name the file imports internal/auth under, "" if not imported
}

func parseTree(t *testing.T, dir string) []parsed {
	t.Helper()
	fset := token.NewFileSet()
	var out []parsed
	err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "vendor", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, p)
		pf := parsed{path: filepath.ToSlash(rel), file: f}
		for _, imp := range f.Imports {
			if v, _ := strconv.Unquote(imp.Path.Value); v == "github.com/hallmark-iot/hallmark/internal/auth" {
				pf.auth = "auth"
				if imp.Name != nil {
					pf.auth = imp.Name.Name
				}
			}
		}
		out = append(out, pf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no Go files under %s", dir)
	}
	return out
}

// actionConsts reads the Action* constants of roles.go: name -> value.
func actionConsts(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "roles.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Action") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("roles.go: %s is not a string literal; this test reads constants' values from it", name.Name)
				}
				out[name.Name], _ = strconv.Unquote(lit.Value)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("roles.go: no Action* constants found")
	}
	return out
}

// authSel reports the name X of a selector authName.X.
func authSel(e ast.Expr, authName string) (string, bool) {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok || authName == "" {
		return "", false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Name != authName {
		return "", false
	}
	return sel.Sel.Name, true
}

// calleeName is "allow" for allow(...), "auth.Allow" for auth.Allow(...),
// "x.Method" for any other selector call x.Method(...) (the receiver's
// last name only), "" otherwise.
func calleeName(c *ast.CallExpr, authName string) string {
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		return fn.Name
	case *ast.SelectorExpr:
		if name, ok := authSel(fn, authName); ok {
			return "auth." + name
		}
		return "." + fn.Sel.Name
	}
	return ""
}

// enclosing names the function (or package-level var) holding pos.
func enclosing(f *ast.File, pos token.Pos) string {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos <= fd.End() {
			return fd.Name.Name
		}
		if gd, ok := d.(*ast.GenDecl); ok && gd.Pos() <= pos && pos <= gd.End() {
			for _, s := range gd.Specs {
				if vs, ok := s.(*ast.ValueSpec); ok && vs.Pos() <= pos && pos <= vs.End() {
					return "var " + vs.Names[0].Name
				}
			}
		}
	}
	return ""
}

func TestPermissionTableCoverage(t *testing.T) {
	consts := actionConsts(t)
	used := map[string][]string{} // action value -> where
	var stray []string
	tables := map[string]int{} // table var -> actions found in it
	for _, pf := range parseTree(t, "internal/server") {
		if strings.HasPrefix(pf.path, "internal/server/servertest/") {
			continue // the test harness, not the application layer
		}
		counted := map[ast.Expr]bool{}
		ast.Inspect(pf.file, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			switch calleeName(c, pf.auth) {
			case "allow", "auth.Allow", "auth.Can":
				if len(c.Args) >= 2 {
					if name, ok := authSel(c.Args[1], pf.auth); ok {
						counted[c.Args[1]] = true
						used[consts[name]] = append(used[consts[name]], pf.path+" "+enclosing(pf.file, c.Pos()))
					}
				}
			}
			return true
		})
		ast.Inspect(pf.file, func(n ast.Node) bool {
			e, ok := n.(ast.Expr)
			if !ok || counted[e] {
				return true
			}
			name, ok := authSel(e, pf.auth)
			if !ok || !strings.HasPrefix(name, "Action") {
				return true
			}
			if _, known := consts[name]; !known {
				t.Errorf("%s: auth.%s is not an action constant of roles.go", pf.path, name)
				return true
			}
			where := enclosing(pf.file, e.Pos())
			if pf.path == "internal/server/gate.go" && (where == "var stepActions" || where == "var labelActions" || where == "var findingResponses") {
				tables[where]++
				used[consts[name]] = append(used[consts[name]], pf.path+" "+where)
				return true
			}
			stray = append(stray, pf.path+": auth."+name+" in "+where)
			return true
		})
	}
	// Guard against a parser that finds nothing (and so proves nothing).
	if tables["var stepActions"] == 0 || tables["var labelActions"] == 0 {
		t.Fatalf("gate.go's stepActions and labelActions tables were not found: %v", tables)
	}
	for _, s := range stray {
		t.Errorf("an action named outside allow and gate.go's tables (a permission decided elsewhere?): %s", s)
	}

	table := auth.Actions()
	if len(table) == 0 {
		t.Fatal("the permission table is empty")
	}
	for action, where := range used {
		if !slices.Contains(table, action) {
			t.Errorf("%q is checked (%s) but missing from the permission table: every request for it is refused", action, strings.Join(where, "; "))
		}
	}
	var unused []string
	for _, action := range table {
		if len(used[action]) == 0 {
			unused = append(unused, action)
		}
	}
	// Every action of the table is checked by some application code: the
	// table promises no policy that nothing enforces.
	if len(unused) > 0 {
		t.Errorf("permission table actions no application code checks: %v", unused)
	}

	// Every constant is in the table, and every table action is a
	// constant: a typo'd string in either place is caught.
	values := slices.Sorted(maps.Values(consts))
	if !slices.Equal(values, table) {
		t.Errorf("Action* constants %v\n  != permission table %v", values, table)
	}
}

// Every action of the table has its own object rule in Allow: an action
// that falls to "no rule" is refused to everyone the table allows (except
// the system principal, which skips object rules).
func TestEveryActionHasAnObjectRule(t *testing.T) {
	consts := actionConsts(t)
	f, err := parser.ParseFile(token.NewFileSet(), "policy.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ruled := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		cc, ok := n.(*ast.CaseClause)
		if !ok {
			return true
		}
		for _, e := range cc.List {
			if id, ok := e.(*ast.Ident); ok && strings.HasPrefix(id.Name, "Action") {
				ruled[consts[id.Name]] = true
			}
		}
		return true
	})
	if len(ruled) == 0 {
		t.Fatal("no case clauses naming actions found in policy.go")
	}
	for _, a := range auth.Actions() {
		// The system principal passes before any object rule: an action
		// only it may take needs none.
		if roles := auth.RolesFor(a); len(roles) > 0 && !slices.ContainsFunc(roles, func(r auth.Role) bool { return r != auth.RoleSystem }) {
			continue
		}
		if !ruled[a] {
			t.Errorf("action %q has no object rule in Allow", a)
		}
	}
}

// The one permission check, and the one way into state changes.
func TestOnePermissionCheckAndOneGate(t *testing.T) {
	files := parseTree(t, ".")
	writes := map[string]bool{"WriteLabelChanges": true, "WriteAppChange": true, "WriteIssue": true, "WriteTarget": true, "WriteReport": true}
	// Where the state-changing writes may be called from, outside the store.
	allowedWrite := map[string][]string{
		"WriteAppChange":    {"internal/server/gate.go decideStep"},
		"WriteLabelChanges": {"internal/server/gate.go decideLabels"},
		"WriteIssue":        {"internal/server/labels.go issueLabel"},
		"WriteTarget":       {"internal/server/targets.go decideTarget"},
		"WriteReport":       {"internal/server/targets.go decideReport"},
	}
	found := map[string]int{}
	canCalls := 0
	for _, pf := range files {
		inAuth := strings.HasPrefix(pf.path, "internal/auth/")
		inStore := strings.HasPrefix(pf.path, "internal/store/")
		ast.Inspect(pf.file, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			callee := calleeName(c, pf.auth)
			where := pf.path + " " + enclosing(pf.file, c.Pos())
			switch {
			case callee == "auth.Can" && !inAuth:
				canCalls++
				if !strings.HasPrefix(pf.path, "internal/web/") {
					t.Errorf("%s calls auth.Can: only internal/web may, to show or hide a control; decisions go through the server's allow", where)
				}
			case callee == "auth.Allow" && !inAuth:
				if where != "internal/server/gate.go allow" {
					t.Errorf("%s calls auth.Allow: the one permission check is internal/server/gate.go's allow", where)
				}
			case callee == ".LoadSynthetic" && !inStore:
				// The benchmarks' bulk loader writes labels without the
				// gate; only tests may call it.
				t.Errorf("%s calls the store's LoadSynthetic: it is for the benchmarks alone and bypasses the decision gate", where)
			case strings.HasPrefix(callee, ".") && writes[callee[1:]] && !inStore:
				m := callee[1:]
				found[m]++
				if !slices.Contains(allowedWrite[m], where) {
					t.Errorf("%s calls the store's %s: state changes go through the decision gate (Server.Decide)", where, m)
				}
			}
			return true
		})
	}
	// Guard: the walk saw the real callers, so a silent miss cannot pass.
	for m := range writes {
		if found[m] == 0 {
			t.Errorf("no caller of %s found at all: the source walk is broken", m)
		}
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	t.Logf("%d files walked; auth.Can called %d time(s) outside internal/auth (display only)", len(files), canCalls)
}
