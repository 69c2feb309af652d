# An app that answers /object with what s3get.py reads of hello.txt.
import http.server, subprocess
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = b"up"
        if self.path == "/object":
            out = subprocess.run(["python3", "/app/s3get.py", "hello.txt"], capture_output=True, timeout=20).stdout
        self.send_response(200)
        self.end_headers()
        self.wfile.write(out)
http.server.ThreadingHTTPServer(("", 8080), H).serve_forever()
