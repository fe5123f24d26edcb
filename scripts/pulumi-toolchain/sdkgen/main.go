// pulumi-gen-python SCHEMA.json OUT_DIR: writes the Python SDK of a Pulumi package schema (a file, or - for stdin, e.g.
// `pulumi package get-schema PLUGIN | pulumi-gen-python - sdks/NAME`) into OUT_DIR, replacing it, with the code
// generator (github.com/pulumi/pulumi/pkg/v3/codegen/python, at the CLI's version) that a current Python language host
// runs for `pulumi package add` and `pulumi package gen-sdk`. The Python host built here (sdk/v3 v3.68.0) predates
// the GeneratePackage RPC, so the CLI cannot generate Python SDKs through it (docs/components.md).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-gen-python SCHEMA.json OUT_DIR")
		os.Exit(2)
	}
	if err := generate(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-gen-python: %v\n", err)
		os.Exit(1)
	}
}

func generate(schemaPath, outDir string) error {
	var data []byte
	var err error
	if schemaPath == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(schemaPath)
	}
	if err != nil {
		return err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("%s: %w", schemaPath, err)
	}
	pkg, diags, err := schema.BindSpec(spec, selfContained{}, schema.ValidationOptions{})
	if err != nil {
		return err
	}
	if diags.HasErrors() {
		return diags
	}
	files, err := python.GeneratePackage("pulumi-gen-python", pkg, nil, selfContained{})
	if err != nil {
		return err
	}
	if err := os.RemoveAll(outDir); err != nil {
		return err
	}
	for name, content := range files {
		path := filepath.Join(outDir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// selfContained loads no other package: the schema may refer only to its own types.
type selfContained struct{}

func (selfContained) refused(name string) error {
	return fmt.Errorf("the schema refers to package %q; pulumi-gen-python only handles self-contained schemas", name)
}

func (l selfContained) LoadPackage(name string, _ *semver.Version) (*schema.Package, error) {
	return nil, l.refused(name)
}

func (l selfContained) LoadPackageV2(_ context.Context, d *schema.PackageDescriptor) (*schema.Package, error) {
	return nil, l.refused(d.Name)
}

func (l selfContained) LoadPackageReference(name string, _ *semver.Version) (schema.PackageReference, error) {
	return nil, l.refused(name)
}

func (l selfContained) LoadPackageReferenceV2(
	_ context.Context, d *schema.PackageDescriptor,
) (schema.PackageReference, error) {
	return nil, l.refused(d.Name)
}
