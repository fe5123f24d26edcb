//go:build tools

// The language hosts live inside github.com/pulumi/pulumi/sdk/v3 up to v3.68.0 (later versions moved them out into
// modules the proxy does not serve). sdk/v3@v3.68.0's go.mod has a replace directive, so `go install ...@v3.68.0`
// refuses it; this wrapper module copies that replace (go.mod) and builds the hosts from the module cache.
package tools

import (
	_ "github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
	_ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
)
