package api

// domainRoutes registers the branding and custom domain endpoints.
func (s *Server) domainRoutes(h, idem func(string, handlerFunc)) {}
