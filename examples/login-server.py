"""The login server of the classic threaded-server tutorial: greets each client with "Welcome!", then answers each
name it is sent (one per line) with "Hello,<name>!". Usage: python3 login-server.py PORT"""
import socketserver
import sys


class Login(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"Welcome!\n")
        for line in self.rfile:
            name = line.strip().decode("utf-8", "replace")
            self.wfile.write(f"Hello,{name}!\n".encode())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Login) as server:
        server.serve_forever()
