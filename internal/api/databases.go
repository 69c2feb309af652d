package api

// databaseRoutes registers the managed data service endpoints.
func (s *Server) databaseRoutes(h, idem func(string, handlerFunc)) {}
