package api

import (
	"reflect"

	"github.com/berth-dev/berth/client"
)

func init() {
	for name, typ := range map[string]reflect.Type{
		"Bucket":            reflect.TypeFor[client.Bucket](),
		"BucketCredentials": reflect.TypeFor[client.BucketCredentials](),
		"BucketList":        reflect.TypeFor[client.List[client.Bucket]](),
		"BucketLink":        reflect.TypeFor[client.BucketLink](),
		"BucketLinkList":    reflect.TypeFor[client.List[client.BucketLink]](),
		"CreateBucket":      reflect.TypeFor[client.CreateBucket](),
		"CreateBucketLink":  reflect.TypeFor[client.CreateBucketLink](),
		"PresignBucket":     reflect.TypeFor[client.PresignBucket](),
		"PresignedURL":      reflect.TypeFor[client.PresignedURL](),
	} {
		clientSchemas[name] = typ
	}
	requestRequired["CreateBucket"] = []string{"name", "project_id"}
	requestRequired["CreateBucketLink"] = []string{}
	requestRequired["PresignBucket"] = []string{"expires_in", "key", "method"}
	missingCode["PresignBucket.key"] = "invalid_key"
	missingCode["PresignBucket.method"] = "invalid_method"
	missingCode["PresignBucket.expires_in"] = "invalid_expires_in"
}
