package store

// DatabaseStore holds managed data services and their links.
type DatabaseStore interface{}
