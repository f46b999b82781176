// Package gen holds the code generated from proto/ by scripts/generate.sh
// (make generate): Go messages, gRPC stubs and grpc-gateway handlers under
// gen/go, and the merged OpenAPI v2 document under gen/openapiv2.
//
// This file is the only hand-written one in gen/. It lives outside the
// directories that buf.gen.yaml's clean: true empties, so regeneration
// keeps it.
package gen

import _ "embed" // for the OpenAPI document below

// OpenAPI is the merged OpenAPI v2 (Swagger) document for every REST route of
// authsvc, served by the REST gateway at /openapi.json. It is embedded so the
// binary always serves the document that matches its own handlers.
//
//go:embed openapiv2/authsvc.swagger.json
var OpenAPI []byte
