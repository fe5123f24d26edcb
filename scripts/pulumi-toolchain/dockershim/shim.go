// Package shim is copied by scripts/pulumi-toolchain.sh into a scratch copy of the Terraform docker provider's Go
// module (github.com/kreuzwerker/terraform-provider-docker, which declares itself as
// github.com/terraform-providers/terraform-provider-docker), as its `shim` folder. Living inside that module, it may
// import the provider's internal package and hand the SDKv2 provider to the Pulumi Terraform bridge; this is the same
// role as the small shim the Pulumi docker provider keeps next to its patched copy of the Terraform provider.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the Terraform docker provider (SDKv2 part: containers, networks, volumes, images, ...).
func NewProvider(version string) *schema.Provider {
	return provider.New(version)()
}
