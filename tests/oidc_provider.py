"""A small OpenID provider of our own for the refusals the mock cannot produce: it runs on loopback,
publishes a discovery document and a JWKS, checks the PKCE verifier, and signs ID tokens (joserfc)
that are right, or wrong in one chosen way: another issuer, another audience, expired, another nonce."""
import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

MODES = ('good', 'wrong_issuer', 'wrong_audience', 'expired', 'bad_nonce')


class Provider:
    def __init__(self, client_id, client_secret, email='zeist@deal.example'):
        self.client_id, self.client_secret, self.email = client_id, client_secret, email
        self.mode = 'good'
        self.discovery_issuer = None  # None: the real one
        self.key = RSAKey.generate_key(2048, parameters={'kid': 'test-key'})
        self.codes = {}
        self.pkce_checked = []
        self.app = self._make_app()

    def start(self):
        self.server = make_server('127.0.0.1', 0, self.app, threaded=True)
        self.issuer = f'http://127.0.0.1:{self.server.server_port}'
        # a stop waits for the server's next look at its socket: every 50 ms rather than werkzeug's 500
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()

    def _make_app(self):
        app = Flask(__name__)

        @app.get('/.well-known/openid-configuration')
        def discovery():
            return jsonify({
                'issuer': self.discovery_issuer or self.issuer, 'authorization_endpoint': f'{self.issuer}/authorize',
                'token_endpoint': f'{self.issuer}/token', 'jwks_uri': f'{self.issuer}/jwks',
                'response_types_supported': ['code'], 'subject_types_supported': ['public'],
                'id_token_signing_alg_values_supported': ['RS256'],
                'code_challenge_methods_supported': ['S256']})

        @app.get('/jwks')
        def jwks():
            return jsonify({'keys': [self.key.as_dict(private=False)]})

        @app.get('/authorize')
        def authorize():
            args = request.args
            if args.get('client_id') != self.client_id or args.get('code_challenge_method') != 'S256':
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {'nonce': args.get('nonce'), 'challenge': args['code_challenge']}
            return redirect(f"{args['redirect_uri']}?{urlencode({'code': code, 'state': args['state']})}")

        @app.post('/token')
        def token():
            auth = request.authorization
            if not auth or (auth.username, auth.password) != (self.client_id, self.client_secret):
                return jsonify(error='invalid_client'), 401
            grant = self.codes.pop(request.form.get('code'), None)
            verifier = request.form.get('code_verifier', '')
            expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b'=').decode()
            if grant is None or expected != grant['challenge']:
                return jsonify(error='invalid_grant'), 400
            self.pkce_checked.append(True)
            return jsonify(access_token=secrets.token_urlsafe(16), token_type='Bearer', expires_in=300,
                           id_token=self.id_token(grant['nonce']))

        return app

    def id_token(self, nonce):
        now = int(time.time())
        claims = {'iss': self.issuer, 'sub': 'person-1', 'aud': self.client_id, 'iat': now, 'exp': now + 300,
                  'nonce': nonce, 'email': self.email, 'email_verified': True}
        if self.mode == 'wrong_issuer':
            claims['iss'] = 'https://login.evil.example'
        elif self.mode == 'wrong_audience':
            claims['aud'] = 'another-client'
        elif self.mode == 'expired':
            claims.update(iat=now - 7200, exp=now - 3600)
        elif self.mode == 'bad_nonce':
            claims['nonce'] = 'not-the-nonce-that-was-sent'
        return jwt.encode({'alg': 'RS256', 'kid': 'test-key'}, claims, self.key)
