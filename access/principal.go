package access

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ecoregistry/ecoregistry/domain"
)

// URIScheme is the scheme of the URI subject alternative name that names a
// principal in a client certificate: ecoregistry://<organisation>/<name>.
const URIScheme = "ecoregistry"

// Principal is an authenticated caller: a person or system (Name) of an
// organisation. Both parts are 1 to 64 characters of A-Z, a-z, 0-9, '.',
// '_' and '-', starting with a letter or digit, like the registry's ids.
type Principal struct {
	Organisation string
	Name         string
}

// String returns the principal as "<organisation>/<name>", the actor the
// registry records on the events the principal causes.
func (p Principal) String() string { return p.Organisation + "/" + p.Name }

// URI returns the principal's URI subject alternative name,
// "ecoregistry://<organisation>/<name>".
func (p Principal) URI() *url.URL {
	return &url.URL{Scheme: URIScheme, Host: p.Organisation, Path: "/" + p.Name}
}

// ErrNoPrincipal reports a certificate that names no principal the registry
// can use.
var ErrNoPrincipal = errors.New("access: the certificate names no principal")

// PrincipalFromCertificate returns the principal that a verified client
// certificate names. The certificate must carry exactly one URI subject
// alternative name of the scheme "ecoregistry", of the form
// ecoregistry://<organisation>/<name>; the subject's common name and other
// names are ignored. The caller must have verified the certificate's chain.
func PrincipalFromCertificate(cert *x509.Certificate) (Principal, error) {
	var found []*url.URL
	for _, u := range cert.URIs {
		if strings.EqualFold(u.Scheme, URIScheme) {
			found = append(found, u)
		}
	}
	switch len(found) {
	case 0:
		return Principal{}, fmt.Errorf("%w: it has no URI subject alternative name %s://<organisation>/<name>", ErrNoPrincipal, URIScheme)
	case 1:
		return ParsePrincipalURI(found[0])
	default:
		return Principal{}, fmt.Errorf("%w: it has %d %s:// URI names; exactly one is allowed", ErrNoPrincipal, len(found), URIScheme)
	}
}

// ParsePrincipalURI reads a principal from its URI,
// ecoregistry://<organisation>/<name>.
func ParsePrincipalURI(u *url.URL) (Principal, error) {
	name := strings.TrimPrefix(u.Path, "/")
	p := Principal{Organisation: u.Host, Name: name}
	if !strings.EqualFold(u.Scheme, URIScheme) || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Port() != "" ||
		!domain.ValidID(p.Organisation) || !domain.ValidID(p.Name) {
		return Principal{}, fmt.Errorf("%w: %q is not %s://<organisation>/<name> with each part 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
			ErrNoPrincipal, u.String(), URIScheme)
	}
	return p, nil
}
