/// A TCP proxy for the interrupted-download test (Python, run with /usr/bin/python3): forwards a free
/// port on 127.0.0.1 to the upstream in argv[1] and, once, cuts the first connection that has carried
/// more than argv[2] bytes downstream. Prints its port; appends `cut` and each `Range:` header to argv[3].
let cutProxyScript = #"""
import socket
import sys
import threading

upstream_host, upstream_port = sys.argv[1].rsplit(":", 1)
cut_after = int(sys.argv[2])
log_path = sys.argv[3]
state = {"cut": False}
lock = threading.Lock()


def log(line):
    with lock, open(log_path, "a") as f:
        f.write(line + "\n")


def pump_up(client, server):
    try:
        while True:
            data = client.recv(65536)
            if not data:
                break
            for line in data.split(b"\r\n"):
                if line.lower().startswith(b"range:"):
                    log(line.decode(errors="replace"))
            server.sendall(data)
    except OSError:
        pass
    finally:
        try:
            server.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def handle(client):
    server = socket.create_connection((upstream_host, int(upstream_port)))
    threading.Thread(target=pump_up, args=(client, server), daemon=True).start()
    sent = 0
    try:
        while True:
            data = server.recv(65536)
            if not data:
                break
            with lock:
                cut = not state["cut"] and sent + len(data) > cut_after
                if cut:
                    state["cut"] = True
            if cut:
                client.sendall(data[: max(0, cut_after - sent)])
                log("cut")
                client.shutdown(socket.SHUT_RDWR)
                break
            client.sendall(data)
            sent += len(data)
    except OSError:
        pass
    finally:
        client.close()
        server.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print(listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=handle, args=(connection,), daemon=True).start()
"""#
