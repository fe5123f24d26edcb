// Added by scripts/pulumi-toolchain.sh to a scratch copy of Pulumi's fork of the Terraform plugin SDK
// (github.com/pulumi/terraform-plugin-sdk/v2, the version the Terraform bridge pins). That fork was cut against
// terraform-plugin-go v0.29; the Terraform docker provider needs terraform-plugin-go v0.31, whose
// tfprotov5.ProviderServer gained GenerateResourceConfig (config generation for `terraform import` blocks). Pulumi
// never calls it; this stub only lets the package compile, and answers with an error if anything ever does.
package schema

import (
	"context"

	"github.com/hashicorp/terraform-plugin-go/tfprotov5"
)

func (s *GRPCProviderServer) GenerateResourceConfig(
	_ context.Context, req *tfprotov5.GenerateResourceConfigRequest,
) (*tfprotov5.GenerateResourceConfigResponse, error) {
	return &tfprotov5.GenerateResourceConfigResponse{
		Diagnostics: []*tfprotov5.Diagnostic{{
			Severity: tfprotov5.DiagnosticSeverityError,
			Summary:  "GenerateResourceConfig is not supported by this build of the plugin SDK",
			Detail:   "resource type " + req.TypeName,
		}},
	}, nil
}
