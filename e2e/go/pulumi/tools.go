//go:build tools

// Package tools pins the pulumi CLI's main package so `go mod tidy` keeps its dependencies;
// build.sh runs `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` in this module.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
