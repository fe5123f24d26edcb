module ddpsim.local/providers

go 1.25

require (
	github.com/hashicorp/terraform-plugin-sdk/v2 v2.33.0
	github.com/pulumi/pulumi-terraform-bridge/v3 v3.120.0
	github.com/terraform-providers/terraform-provider-docker v0.0.0
)

// The bridge needs Pulumi's fork of the Terraform plugin SDK (the same replace as in the bridge's own go.mod).
replace github.com/hashicorp/terraform-plugin-sdk/v2 => github.com/pulumi/terraform-plugin-sdk/v2 v2.0.0-20250923233607-7f1981c8674a

// scripts/pulumi-toolchain.sh lays the Terraform docker provider's module (with the shim) out here.
replace github.com/terraform-providers/terraform-provider-docker => ../kw
