# Reads one object with the bucket's variables a linked app gets (S3_*,
# AWS_*), signing the request with SigV4 as an AWS SDK would, using only
# the standard library: python3 s3get.py KEY. Without KEY it lists the
# bucket (ListObjectsV2).
import datetime, hashlib, hmac, os, sys, urllib.parse, urllib.request

endpoint = os.environ["S3_ENDPOINT"]
bucket, region = os.environ["S3_BUCKET"], os.environ["S3_REGION"]
access, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
key = sys.argv[1] if len(sys.argv) > 1 else None

host = urllib.parse.urlparse(endpoint).netloc
path, query = "/" + bucket, "list-type=2"
if key is not None:
    path, query = path + "/" + urllib.parse.quote(key), ""
now = datetime.datetime.now(datetime.timezone.utc)
amzdate, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
payload = hashlib.sha256(b"").hexdigest()
headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": amzdate}
signed = ";".join(sorted(headers))
canonical = "\n".join(["GET", path, query, "".join(k + ":" + headers[k] + "\n" for k in sorted(headers)), signed, payload])
scope = day + "/" + region + "/s3/aws4_request"
to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope, hashlib.sha256(canonical.encode()).hexdigest()])

def h(k, m):
    return hmac.new(k, m.encode(), hashlib.sha256).digest()

k = h(h(h(h(("AWS4" + secret).encode(), day), region), "s3"), "aws4_request")
sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(endpoint + path + ("?" + query if query else ""))
for name in ("x-amz-content-sha256", "x-amz-date"):
    req.add_header(name, headers[name])
req.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (access, scope, signed, sig))
try:
    with urllib.request.urlopen(req, timeout=10) as r:
        sys.stdout.write("status=%d body=%s\n" % (r.status, r.read().decode()))
except urllib.error.HTTPError as e:
    sys.stdout.write("status=%d body=%s\n" % (e.code, e.read().decode()[:200]))
