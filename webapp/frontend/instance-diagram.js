/*
 * Dosar: shows a procedure's BPMN diagram on the instance page and marks
 * where the instance stands.
 *
 * Markup (no inline script needed; load bpmn-viewer.production.min.js and
 * then this file, both with `defer`):
 *
 *   <div class="bpmn-diagram"
 *        data-diagram-url="/procedures/42/diagram.bpmn"
 *        data-current="Task_1,Task_2"
 *        data-completed="Start_1,Task_0"></div>
 *
 * Relies on the global `BpmnJS` exposed by bpmn-js's UMD viewer bundle.
 */
(function () {
  'use strict';

  var CURRENT_MARKER = 'dosar-current';
  var COMPLETED_MARKER = 'dosar-completed';
  var ERROR_PREFIX = 'Diagrama nu a putut fi afișată.';

  // "a, b,,c " -> ["a", "b", "c"]
  function parseIds(value) {
    if (!value) {
      return [];
    }
    return value.split(',')
      .map(function (id) { return id.trim(); })
      .filter(function (id) { return id.length > 0; });
  }

  function errorText(err) {
    if (!err) {
      return 'eroare necunoscută';
    }
    if (typeof err === 'string') {
      return err;
    }
    return err.message || String(err);
  }

  function showError(container, err) {
    // textContent only: the error text may echo server or XML content.
    while (container.firstChild) {
      container.removeChild(container.firstChild);
    }
    container.classList.add('bpmn-diagram--error');
    var box = document.createElement('p');
    box.className = 'bpmn-diagram__error';
    box.setAttribute('role', 'alert');
    box.textContent = ERROR_PREFIX + ' ' + errorText(err);
    container.appendChild(box);
    if (window.console && console.error) {
      console.error('[dosar] ' + ERROR_PREFIX, err);
    }
  }

  function fetchDiagram(url) {
    return fetch(url, {
      credentials: 'same-origin',
      headers: { 'Accept': 'application/xml, text/xml, */*;q=0.1' }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('Serverul a răspuns ' + response.status +
          (response.statusText ? ' ' + response.statusText : '') + '.');
      }
      return response.text();
    });
  }

  function addMarkers(viewer, ids, marker) {
    var registry = viewer.get('elementRegistry');
    var canvas = viewer.get('canvas');
    ids.forEach(function (id) {
      // Ids unknown to this diagram (e.g. an older procedure version) are ignored.
      if (registry.get(id)) {
        canvas.addMarker(id, marker);
      }
    });
  }

  function fit(viewer) {
    var canvas = viewer.get('canvas');
    canvas.resized();
    canvas.zoom('fit-viewport', 'auto');
  }

  function watchResize(container, viewer) {
    if (typeof ResizeObserver !== 'function') {
      return;
    }
    var pending = null;
    var observer = new ResizeObserver(function () {
      if (pending) {
        clearTimeout(pending);
      }
      pending = setTimeout(function () {
        pending = null;
        try {
          fit(viewer);
        } catch (err) {
          // A failed re-fit keeps the previous view; nothing to show the user.
        }
      }, 100);
    });
    observer.observe(container);
  }

  function render(container) {
    if (container.getAttribute('data-dosar-rendered')) {
      return Promise.resolve();
    }
    container.setAttribute('data-dosar-rendered', 'pending');

    var url = container.getAttribute('data-diagram-url');
    var current = parseIds(container.getAttribute('data-current'));
    var completed = parseIds(container.getAttribute('data-completed'));

    return Promise.resolve().then(function () {
      if (!url) {
        throw new Error('Lipsește atributul data-diagram-url.');
      }
      if (typeof window.BpmnJS !== 'function') {
        throw new Error('Biblioteca bpmn-js nu este încărcată.');
      }
      return fetchDiagram(url);
    }).then(function (xml) {
      var viewer = new window.BpmnJS({ container: container });
      return viewer.importXML(xml).then(function (result) {
        if (result && result.warnings && result.warnings.length && window.console) {
          console.warn('[dosar] BPMN import warnings for ' + url, result.warnings);
        }
        fit(viewer);
        // An element that is both completed and current shows the current
        // style (instance-diagram.css lists the current rules last).
        addMarkers(viewer, completed, COMPLETED_MARKER);
        addMarkers(viewer, current, CURRENT_MARKER);
        container.setAttribute('data-dosar-rendered', 'done');
        watchResize(container, viewer);
        return viewer;
      }, function (err) {
        viewer.destroy();
        throw err;
      });
    }).catch(function (err) {
      container.setAttribute('data-dosar-rendered', 'error');
      showError(container, err);
    });
  }

  function renderAll() {
    var containers = document.querySelectorAll('.bpmn-diagram');
    for (var i = 0; i < containers.length; i++) {
      render(containers[i]);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', renderAll);
  } else {
    renderAll();
  }
})();
