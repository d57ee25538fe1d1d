"""A separate process answering consultations through the API for some parties, round after round."""
import json
import sys
import time
import urllib.request

base, tokens, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
#: the procedure id of the first round (procedures before it are not the workers' business)
first = int(sys.argv[4]) if len(sys.argv) > 4 else 1


def call(method, path, token, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={'Authorization': f'Bearer {token}', 'Content-Type': 'application/json'})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


answered = 0
for round_ in range(first, first + rounds):
    for party, token in tokens.items():
        deadline = time.monotonic() + 60
        while True:
            _, tasks = call('GET', '/api/v1/taken', token)
            mine = [t for t in tasks if t['procedure_id'] == round_]
            if mine:
                break
            if time.monotonic() > deadline:
                sys.exit(f'{party}: no task in round {round_}')
            time.sleep(0.05)  # every poll is a request the web processes must serve
        status, _ = call('POST', f"/api/v1/taken/{mine[0]['id']}/beslissing", token,
                         {'decision': 'consent', 'statement': f'{party} ronde {round_}'})
        assert status == 201, status
        answered += 1
print(answered)
