"""A private nginx running the shipped scripts/nginx/booking.conf on a loopback port, for tests and
measurements (scripts/framing-fuzz, scripts/hostile-clients). Only the listening address and the
upstream port are changed."""
import os, shutil, signal, socket, subprocess, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_nginx(upstream):
    """The shipped scripts/nginx/booking.conf, on a loopback port, in a private prefix."""
    prefix = tempfile.mkdtemp(prefix="booking-nginx-")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, d))
        os.chmod(os.path.join(prefix, d), 0o777)
    os.chmod(prefix, 0o777)
    port = free_port()
    site = open(os.path.join(ROOT, "scripts", "nginx", "booking.conf")).read()
    site = site.replace("listen 80;", "listen 127.0.0.1:%d;" % port)
    site = site.replace("server 127.0.0.1:8080;", "server 127.0.0.1:%d;" % upstream)
    conf = """worker_processes 1;
daemon off;
pid {p}/nginx.pid;
error_log {p}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {p}/body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
{site}
}}
""".format(p=prefix, site=site)
    path = os.path.join(prefix, "nginx.conf")
    open(path, "w").write(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([nginx, "-p", prefix, "-c", path], stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port, prefix
        except OSError:
            time.sleep(0.05)
    stop_nginx(proc, prefix)
    raise SystemExit("nginx did not start")


def stop_nginx(proc, prefix):
    """Stops an nginx from start_nginx gracefully and removes its private prefix."""
    try:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
