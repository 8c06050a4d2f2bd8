package scenario

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// tlsKeys are the keys of config.tls: got's https option names, which is
// where Artillery hands them.
var tlsKeys = []string{"rejectUnauthorized", "certificateAuthority", "certificate", "key", "minVersion", "maxVersion"}

var tlsRefused = map[string]string{
	"ca":         "ca is Node's name; Artillery hands config.tls to got, which calls it certificateAuthority",
	"cert":       "cert is Node's name; Artillery hands config.tls to got, which calls it certificate",
	"passphrase": "an encrypted key is not supported; decrypt it first (openssl pkey -in key.pem -out plain.pem)",
	"pfx":        "pfx (PKCS#12) is not supported; give certificate and key in PEM (openssl pkcs12 -in f.pfx -nodes)",
}

// tlsVersions are the names Node gives TLS versions.
var tlsVersions = map[string]uint16{"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// tlsConfig reads config.tls. A PEM value is given inline (as Artillery
// takes it) or, primeload's extension, as the path of a PEM file
// relative to the script, under the same rule as payload paths.
func (l *loader) tlsConfig(n *yaml.Node, path string) TLSConfig {
	c := TLSConfig{RejectUnauthorized: true}
	var certN, keyN *yaml.Node
	l.object(n, path, tlsKeys, tlsRefused, func(p pair, fp string) {
		switch p.key {
		case "rejectUnauthorized":
			if b, ok := l.boolean(p.v, fp); ok {
				c.RejectUnauthorized = b
			}
		case "certificateAuthority":
			items := []*yaml.Node{p.v}
			if v := l.deref(p.v); v.Kind == yaml.SequenceNode {
				items = v.Content
			}
			for i, it := range items {
				ip := fp
				if len(items) > 1 || l.deref(p.v).Kind == yaml.SequenceNode {
					ip = index(fp, i)
				}
				pem := l.pem(it, ip)
				if pem != nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
					l.errorf(l.deref(it), ip, "holds no PEM certificate")
				}
				c.CA = append(c.CA, pem...)
			}
		case "certificate":
			certN, c.Certificate = l.deref(p.v), l.pem(p.v, fp)
		case "key":
			keyN, c.Key = l.deref(p.v), l.pem(p.v, fp)
		case "minVersion", "maxVersion":
			s, ok := l.str(p.v, fp)
			v, known := tlsVersions[s]
			if ok && !known {
				l.errorf(l.deref(p.v), fp, "must be TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3, got %q", s)
			}
			if p.key == "minVersion" {
				c.MinVersion = v
			} else {
				c.MaxVersion = v
			}
		}
	})
	switch {
	case certN != nil && keyN == nil:
		l.errorf(certN, join(path, "key"), "is required with certificate: the client certificate's private key")
	case keyN != nil && certN == nil:
		l.errorf(keyN, join(path, "certificate"), "is required with key: the client certificate the key belongs to")
	case c.Certificate != nil && c.Key != nil:
		if _, err := tls.X509KeyPair(c.Certificate, c.Key); err != nil {
			l.errorf(keyN, join(path, "key"), "does not go with certificate: %v", err)
		}
	}
	return c
}

// pem reads a PEM value: the text itself, or the file a path names.
func (l *loader) pem(n *yaml.Node, path string) []byte {
	s, ok := l.str(n, path)
	if !ok {
		return nil
	}
	if strings.Contains(s, "-----BEGIN") {
		return []byte(s)
	}
	file, err := l.payloadPath(s)
	if err == nil {
		var b []byte
		if b, err = os.ReadFile(file); err == nil {
			if !bytes.Contains(b, []byte("-----BEGIN")) {
				err = fmt.Errorf("%s holds no PEM block", s)
			} else {
				return b
			}
		}
	}
	l.errorf(l.deref(n), path, "must be PEM text or the path of a PEM file: %v", err)
	return nil
}
