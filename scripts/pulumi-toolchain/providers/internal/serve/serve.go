// Package serve runs a Terraform-bridged Pulumi provider built by scripts/pulumi-toolchain.sh.
//
// The Pulumi provider binaries normally embed a schema that `tfgen` generated at release time. Here one binary does
// both: with DDPSIM_WRITE_SCHEMA=<file> it generates the Pulumi schema from the Terraform schema and writes it (the
// toolchain script does this once, right after the build, to <binary>.schema.json); otherwise it serves the provider
// with that schema.
package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
)

// IgnoreUnmapped lists every Terraform resource and data source that has no Pulumi token in info, so that schema
// generation does not stop on them (they are simply not offered).
func IgnoreUnmapped(info *tfbridge.ProviderInfo) {
	ignore := func(mapped map[string]bool) func(string, shim.Resource) bool {
		return func(name string, _ shim.Resource) bool {
			if !mapped[name] {
				info.IgnoreMappings = append(info.IgnoreMappings, name)
			}
			return true
		}
	}
	resources := map[string]bool{}
	for name := range info.Resources {
		resources[name] = true
	}
	dataSources := map[string]bool{}
	for name := range info.DataSources {
		dataSources[name] = true
	}
	info.P.ResourcesMap().Range(ignore(resources))
	info.P.DataSourcesMap().Range(ignore(dataSources))
}

// Run writes the schema (DDPSIM_WRITE_SCHEMA) or serves the provider.
func Run(pkg string, version string, info tfbridge.ProviderInfo) {
	if out := os.Getenv("DDPSIM_WRITE_SCHEMA"); out != "" {
		sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
		spec, err := tfgen.GenerateSchema(info, sink)
		if err != nil {
			fmt.Fprintf(os.Stderr, "generating the %s schema: %v\n", pkg, err)
			os.Exit(1)
		}
		bytes, err := json.MarshalIndent(spec, "", "  ")
		if err == nil {
			err = os.WriteFile(out, bytes, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "writing the %s schema: %v\n", pkg, err)
			os.Exit(1)
		}
		return
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	var schema []byte
	if err == nil {
		schema, err = os.ReadFile(exe + ".schema.json")
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-%s: cannot read its schema (run scripts/pulumi-toolchain.sh again): %v\n", pkg, err)
		os.Exit(1)
	}
	tfbridge.Main(pkg, version, info, schema)
}
