"""A procedure's BPMN diagram as SVG, drawn on the server from the model's own diagram data
(BPMN DI), with the elements it completed and the ones it is at now marked. No JavaScript."""
import textwrap
import xml.etree.ElementTree as ET
from functools import lru_cache
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from markupsafe import Markup

NS = {'bpmn': 'http://www.omg.org/spec/BPMN/20100524/MODEL',
      'bpmndi': 'http://www.omg.org/spec/BPMN/20100524/DI',
      'dc': 'http://www.omg.org/spec/DD/20100524/DC',
      'di': 'http://www.omg.org/spec/DD/20100524/DI'}
EVENTS = {'startEvent', 'endEvent', 'intermediateCatchEvent', 'boundaryEvent'}
GATEWAYS = {'exclusiveGateway', 'parallelGateway'}


@lru_cache(maxsize=None)
def _model(path):
    root = ET.parse(path).getroot()
    kinds, names = {}, {}
    for element in root.iter():
        tag = element.tag.split('}')[1]
        if element.get('id'):
            kinds[element.get('id')] = tag
            names[element.get('id')] = element.get('name') or ''
    shapes = [(s.get('bpmnElement'), s.find('dc:Bounds', NS), s.find('bpmndi:BPMNLabel/dc:Bounds', NS))
              for s in root.iter(f"{{{NS['bpmndi']}}}BPMNShape")]
    edges = [(e.get('bpmnElement'), [(float(p.get('x')), float(p.get('y'))) for p in e.findall('di:waypoint', NS)],
              e.find('bpmndi:BPMNLabel/dc:Bounds', NS)) for e in root.iter(f"{{{NS['bpmndi']}}}BPMNEdge")]
    process_name = root.find('bpmn:process', NS).get('name')
    return kinds, names, shapes, edges, process_name


def _box(bounds):
    return tuple(float(bounds.get(k)) for k in ('x', 'y', 'width', 'height'))


def _text(x, y, label, width, css='label', line_height=13):
    lines = textwrap.wrap(label, max(8, int(width / 6.2))) or ['']
    top = y - (len(lines) - 1) * line_height / 2
    return ''.join(f'<text class="{css}" x="{x:.0f}" y="{top + i * line_height:.0f}">{escape(line)}</text>'
                   for i, line in enumerate(lines))


def render(state):
    kinds, names, shapes, edges, process_name = _model(str(state['model']))
    width = max(x + w for _, b, _ in shapes for x, _, w, _ in [_box(b)]) + 20
    height = max(y + h for _, b, _ in shapes for _, y, _, h in [_box(b)]) + 20
    # Drawn at its own size (text 11 px and up, as in the model); the page scrolls it inside its box.
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bpmn" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'width="{width:.0f}" height="{height:.0f}" '
             f'role="img" aria-labelledby="bpmn-title" aria-describedby="bpmn-desc">',
             f'<title id="bpmn-title">{escape(process_name)}</title>',
             '<desc id="bpmn-desc">' + escape(_describe(state, names)) + '</desc>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead"/></marker></defs>']
    for element_id, bounds, _label in shapes:
        if kinds.get(element_id) in ('participant', 'lane'):
            x, y, w, h = _box(bounds)
            parts.append(f'<rect class="{kinds[element_id]}" x="{x}" y="{y}" width="{w}" height="{h}"/>')
            parts.append(f'<text class="lane-name" transform="translate({x + 17:.0f} {y + h / 2:.0f}) rotate(-90)">'
                         f'{escape(names[element_id])}</text>')
    for element_id, points, label in edges:
        css = 'flow done' if element_id in state.get('completed', ()) else 'flow'
        path = ' '.join(f'{x:.0f},{y:.0f}' for x, y in points)
        parts.append(f'<polyline class="{css}" points="{path}" marker-end="url(#arrow)"/>')
        if names.get(element_id) and label is not None:
            x, y, w, h = _box(label)
            parts.append(_text(x + w / 2, y + h / 2 + 4, names[element_id], 200, 'flow-label'))
    for element_id, bounds, label in shapes:
        kind = kinds.get(element_id)
        if kind in ('participant', 'lane'):
            continue
        x, y, w, h = _box(bounds)
        status = 'active' if element_id in state['active'] else 'done' if element_id in state['completed'] else 'todo'
        if kind in EVENTS:
            ring = ' end' if kind == 'endEvent' else ''
            parts.append(f'<circle class="shape {status}{ring}" cx="{x + w / 2}" cy="{y + h / 2}" r="{w / 2}"/>')
        elif kind in GATEWAYS:
            cx, cy = x + w / 2, y + h / 2
            parts.append(f'<polygon class="shape {status}" points="{cx},{y} {x + w},{cy} {cx},{y + h} {x},{cy}"/>')
            mark = '+' if kind == 'parallelGateway' else '×'
            parts.append(f'<text class="gateway-mark" x="{cx:.0f}" y="{cy + 6:.0f}">{mark}</text>')
        else:
            parts.append(f'<rect class="shape {status}" x="{x}" y="{y}" width="{w}" height="{h}" rx="10"/>')
            parts.append(_text(x + w / 2, y + h / 2 + 4, names.get(element_id, ''), w - 8))
            continue
        if names.get(element_id):
            lx, ly, lw, lh = _box(label) if label is not None else (x - 30, y + h + 4, w + 60, 27)
            parts.append(_text(lx + lw / 2, ly + 10, names[element_id], lw + 20))
    parts.append('</svg>')
    return Markup(''.join(parts))


def _describe(state, names):
    active = ', '.join(names.get(i) or i for i in sorted(state['active'])) or '–'
    done = ', '.join(names[i] for i in sorted(state['completed']) if names.get(i)) or '–'
    return _('Nu bij: %(active)s. Afgerond: %(done)s.', active=active, done=done)


def current_steps(state):
    """The names of the steps a procedure is at now, for the text beside the diagram."""
    _kinds, names, _shapes, _edges, _name = _model(str(state['model']))
    return sorted({names.get(i) or i for i in state['active'] if names.get(i)})
