package domains

import (
	"strings"
	"testing"
)

func TestBrandingValidation(t *testing.T) {
	for _, f := range []BrandingFields{
		{PrimaryColor: "red;}body{"}, {AccentColor: "#12345"}, {LogoURL: "javascript:alert(1)"},
		{SupportURL: "ftp://x"}, {SupportEmail: "not an email"}, {ProductName: strings.Repeat("x", 101)},
	} {
		if err := f.validate(); err == nil {
			t.Errorf("%+v: valid, want an error", f)
		}
	}
	ok := BrandingFields{ProductName: "Clinic IQ", PrimaryColor: "#0a7", AccentColor: "teal",
		LogoURL: "https://cdn.example/logo.png", SupportURL: "https://help.example", SupportEmail: "a@b.example"}
	if err := ok.validate(); err != nil {
		t.Errorf("%+v: %v", ok, err)
	}
}
