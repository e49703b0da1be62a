package agent_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLayoutNamesEveryPackage: the README's Layout table names every
// package of the module (a row may name several, or a tree with /...), and
// every package has a doc comment.
func TestLayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, layout, ok := strings.Cut(string(readme), "\n### Layout\n")
	if !ok {
		t.Fatal("README has no Layout section")
	}
	layout, _, _ = strings.Cut(layout, "\n## ")
	named := map[string]bool{}
	var trees []string
	cell := regexp.MustCompile(`^\| ([^|]+) \|`)
	name := regexp.MustCompile("`" + `([a-z0-9/._]+)` + "`")
	for _, line := range strings.Split(layout, "\n") {
		m := cell.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, n := range name.FindAllStringSubmatch(m[1], -1) {
			if tree, ok := strings.CutSuffix(n[1], "/..."); ok {
				trees = append(trees, tree+"/")
			}
			named[n[1]] = true
		}
	}
	root := ".."
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		// The package's name and whether one of its files documents it.
		files, err := filepath.Glob(filepath.Join(path, "*.go"))
		if err != nil {
			return err
		}
		pkg, documented := "", false
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ParseComments|parser.PackageClauseOnly)
			if err != nil {
				return err
			}
			pkg = af.Name.Name
			documented = documented || af.Doc != nil
		}
		if pkg == "" {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		inTree := false
		for _, tr := range trees {
			inTree = inTree || strings.HasPrefix(rel+"/", tr)
		}
		if !named[rel] && !inTree {
			t.Errorf("README's Layout does not name package %s", rel)
		}
		if !documented && pkg != "main" {
			t.Errorf("package %s (%s) has no doc comment", pkg, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
