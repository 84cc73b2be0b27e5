// Verifies a leaf certificate against a CA exactly as Velociraptor identifies a gRPC caller:
// services/users/grpc.go GetGRPCUserInfo (v0.77.2) calls peer_cert.Verify(x509.VerifyOptions{Roots: ca_pool}),
// i.e. Go's default options, whose empty KeyUsages means ExtKeyUsageServerAuth (crypto/x509 verify.go).
// Usage: go run verify.go CA.pem LEAF.pem  → prints "ok CN" or "fail <error>".
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
)

func load(path string) *x509.Certificate {
	data, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		panic("no PEM block in " + path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		panic(err)
	}
	return cert
}

func main() {
	pool := x509.NewCertPool()
	pool.AddCert(load(os.Args[1]))
	leaf := load(os.Args[2])
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
		fmt.Println("fail", err)
		return
	}
	fmt.Println("ok", leaf.Subject.CommonName)
}
