// pulumi-resource-docker for ddpsim's real-engine tests: the Terraform docker provider (kreuzwerker's Go module, with
// the shim in ../../../dockershim) served through the Pulumi Terraform bridge with the tokens and names of the
// @pulumi/docker SDK. The Go module of the Pulumi docker provider itself is not served by the module proxy, so this
// mapping is written here; the native (non-Terraform) docker.Image / buildx resources are not offered.
package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"

	"ddpsim.local/providers/internal/serve"
)

// Version is set with -ldflags "-X main.Version=..." to the version @pulumi/docker names.
var Version = "5.2.0"

func resource(name string) tokens.Type {
	return tokens.Type("docker:index/" + string(name[0]+('a'-'A')) + name[1:] + ":" + name)
}

func dataSource(name string) tokens.ModuleMember {
	return tokens.ModuleMember("docker:index/" + name + ":" + name)
}

func main() {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider(Version)),
		Name:    "docker",
		Version: Version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{Value: "unix:///var/run/docker.sock", EnvVars: []string{"DOCKER_HOST"}}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_container": {
				Tok:                 resource("Container"),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},
					"networks_advanced": {Name: "networksAdvanced"},
				},
			},
			"docker_image": {
				Tok:    resource("RemoteImage"),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
			"docker_network":        {Tok: resource("Network")},
			"docker_volume":         {Tok: resource("Volume")},
			"docker_config":         {Tok: resource("ServiceConfig")},
			"docker_secret":         {Tok: resource("Secret")},
			"docker_service":        {Tok: resource("Service")},
			"docker_registry_image": {Tok: resource("RegistryImage")},
			"docker_plugin":         {Tok: resource("Plugin")},
			"docker_tag":            {Tok: resource("Tag")},
			"docker_buildx_builder": {Tok: resource("BuildxBuilder")},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_network":        {Tok: dataSource("getNetwork")},
			"docker_registry_image": {Tok: dataSource("getRegistryImage")},
			"docker_plugin":         {Tok: dataSource("getPlugin")},
			"docker_image":          {Tok: dataSource("getRemoteImage")},
			"docker_logs":           {Tok: dataSource("getLogs")},
		},
	}
	serve.IgnoreUnmapped(&info)
	info.SetAutonaming(255, "-")
	serve.Run("docker", Version, info)
}
