package api

// cronRoutes registers the cron job endpoints.
func (s *Server) cronRoutes(h, idem func(string, handlerFunc)) {}
