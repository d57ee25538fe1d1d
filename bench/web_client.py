"""A person's browser, reduced to what the benchmark needs: cookies, CSRF tokens, no redirects followed."""
import http.client
import re
import time
from urllib.parse import urlencode

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Response:
    def __init__(self, status, headers, body, elapsed_ms):
        self.status, self.headers, self.body, self.elapsed_ms = status, headers, body, elapsed_ms

    def csrf_token(self):
        found = TOKEN.search(self.body)
        if not found:
            raise RuntimeError(f'no CSRF token in the page (status {self.status})')
        return found.group(1)


class Browser:
    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, form=None):
        """One request on its own connection, connected before the clock starts: the time is the
        server's answer, not the TCP handshake (gunicorn's sync worker closes every connection)."""
        headers = {'Cookie': '; '.join(f'{k}={v}' for k, v in self.cookies.items())} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers['Content-Type'] = 'application/x-www-form-urlencoded'
        connection = http.client.HTTPConnection('127.0.0.1', self.port, timeout=120)
        connection.connect()
        try:
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode('utf-8', errors='replace')
            elapsed_ms = (time.perf_counter() - started) * 1000
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == 'set-cookie':
                name, _, rest = value.partition('=')
                cookie = rest.split(';', 1)[0]
                if cookie:
                    self.cookies[name.strip()] = cookie
                else:
                    self.cookies.pop(name.strip(), None)
        return Response(response.status, dict(response.getheaders()), text, elapsed_ms)

    def get(self, path):
        return self.request('GET', path)

    def post(self, path, form):
        return self.request('POST', path, form)

    def login(self, email, password):
        token = self.get('/inloggen').csrf_token()
        answer = self.post('/inloggen', {'email': email, 'password': password, 'csrf_token': token})
        if answer.status != 302:
            raise RuntimeError(f'login of {email} answered {answer.status}')
