// pulumi-resource-random for ddpsim's real-engine tests: a STAND-IN, not the Pulumi random provider. Neither
// github.com/pulumi/pulumi-random/provider/v4 nor a current terraform-provider-random is served by the module proxy,
// so this offers the two resources ddpsim uses, random:index/randomString:RandomString and random:index/randomId:RandomId,
// as small Terraform SDKv2 resources with the Terraform random_string and random_id schemas (every input forces a
// replacement, the results are computed once at create) served through the same Pulumi Terraform bridge as the real
// provider.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	"ddpsim.local/providers/internal/serve"
)

// Version is set with -ldflags "-X main.Version=..." to the version @pulumi/random names.
var Version = "4.21.2"

const (
	lowerChars   = "abcdefghijklmnopqrstuvwxyz"
	upperChars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars = "0123456789"
	specialChars = "!@#$%&*()-_=+[]{}<>:?"
)

func boolDefault(def bool) *schema.Schema {
	return &schema.Schema{Type: schema.TypeBool, Optional: true, ForceNew: true, Default: def}
}

func intDefault() *schema.Schema {
	return &schema.Schema{Type: schema.TypeInt, Optional: true, ForceNew: true, Default: 0}
}

func randomString() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"keepers":          {Type: schema.TypeMap, Optional: true, ForceNew: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"length":           {Type: schema.TypeInt, Required: true, ForceNew: true},
			"special":          boolDefault(true),
			"upper":            boolDefault(true),
			"lower":            boolDefault(true),
			"number":           boolDefault(true),
			"numeric":          boolDefault(true),
			"min_numeric":      intDefault(),
			"min_upper":        intDefault(),
			"min_lower":        intDefault(),
			"min_special":      intDefault(),
			"override_special": {Type: schema.TypeString, Optional: true, ForceNew: true},
			"result":           {Type: schema.TypeString, Computed: true},
		},
		CreateContext: createString,
		ReadContext:   func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil },
		DeleteContext: func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil },
	}
}

func pick(chars string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
	if err != nil {
		return 0, err
	}
	return chars[n.Int64()], nil
}

func createString(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	length := d.Get("length").(int)
	special := specialChars
	if s, ok := d.GetOk("override_special"); ok {
		special = s.(string)
	}
	type class struct {
		on    bool
		chars string
		min   int
	}
	classes := []class{
		{d.Get("lower").(bool), lowerChars, d.Get("min_lower").(int)},
		{d.Get("upper").(bool), upperChars, d.Get("min_upper").(int)},
		{d.Get("numeric").(bool) && d.Get("number").(bool), numericChars, d.Get("min_numeric").(int)},
		{d.Get("special").(bool), special, d.Get("min_special").(int)},
	}
	var all strings.Builder
	var out []byte
	for _, c := range classes {
		if !c.on {
			continue
		}
		all.WriteString(c.chars)
		for i := 0; i < c.min; i++ {
			b, err := pick(c.chars)
			if err != nil {
				return diag.FromErr(err)
			}
			out = append(out, b)
		}
	}
	if all.Len() == 0 {
		return diag.Errorf("random_string: no character class is enabled")
	}
	for len(out) < length {
		b, err := pick(all.String())
		if err != nil {
			return diag.FromErr(err)
		}
		out = append(out, b)
	}
	for i := len(out) - 1; i > 0; i-- { // shuffle, so the minimum classes are not all in front
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return diag.FromErr(err)
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	result := string(out[:length])
	if err := d.Set("result", result); err != nil {
		return diag.FromErr(err)
	}
	d.SetId(result)
	return nil
}

// randomID is Terraform's random_id: byte_length random bytes, as hex, base64 (std and URL) and a decimal string; the
// id is the URL-safe base64 form.
func randomID() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"keepers":     {Type: schema.TypeMap, Optional: true, ForceNew: true, Elem: &schema.Schema{Type: schema.TypeString}},
			"byte_length": {Type: schema.TypeInt, Required: true, ForceNew: true},
			"prefix":      {Type: schema.TypeString, Optional: true, ForceNew: true},
			"b64_url":     {Type: schema.TypeString, Computed: true},
			"b64_std":     {Type: schema.TypeString, Computed: true},
			"hex":         {Type: schema.TypeString, Computed: true},
			"dec":         {Type: schema.TypeString, Computed: true},
		},
		CreateContext: createID,
		ReadContext:   func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil },
		DeleteContext: func(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics { return nil },
	}
}

func createID(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	bytes := make([]byte, d.Get("byte_length").(int))
	if _, err := rand.Read(bytes); err != nil {
		return diag.FromErr(err)
	}
	prefix := d.Get("prefix").(string)
	url := base64.RawURLEncoding.EncodeToString(bytes)
	values := map[string]string{
		"b64_url": prefix + url,
		"b64_std": prefix + base64.StdEncoding.EncodeToString(bytes),
		"hex":     prefix + hex.EncodeToString(bytes),
		"dec":     prefix + new(big.Int).SetBytes(bytes).String(),
	}
	for key, value := range values {
		if err := d.Set(key, value); err != nil {
			return diag.FromErr(err)
		}
	}
	d.SetId(url)
	return nil
}

func main() {
	provider := &schema.Provider{
		ResourcesMap: map[string]*schema.Resource{"random_string": randomString(), "random_id": randomID()},
	}
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(provider),
		Name:    "random",
		Version: Version,
		Resources: map[string]*tfbridge.ResourceInfo{
			"random_string": {Tok: "random:index/randomString:RandomString"},
			"random_id":     {Tok: "random:index/randomId:RandomId"},
		},
	}
	serve.Run("random", Version, info)
}
