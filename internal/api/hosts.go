package api

// hostRoutes registers the Docker Deploy host endpoints.
func (s *Server) hostRoutes(h, idem func(string, handlerFunc)) {}
