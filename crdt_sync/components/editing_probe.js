// crdt_sync editing probe: tells the server whether a data-grid cell editor is open on
// this page. Glide opens its cell editors in Streamlit's overlay root (#portal), inside a
// wrapper that carries the grid's --gdg- CSS variables. While one is open, the server does
// not rebuild the page's shared data editors (a rebuild would drop what is being typed).
const probes = new WeakMap();
const CLOSE_DELAY_MS = 600;
const OPEN_EDITOR = '#portal [style*="--gdg-"] input, #portal [style*="--gdg-"] textarea';

export default function (component) {
  const { parentElement, setStateValue } = component;
  let probe = probes.get(parentElement);
  if (!probe) {
    probe = { open: false, reported: false, send: setStateValue, timer: null };
    const report = (open) => {
      clearTimeout(probe.timer);
      probe.timer = null;
      if (open !== probe.reported) {
        probe.reported = open;
        probe.send("editing", open);
      }
    };
    const check = () => {
      const open = document.querySelector(OPEN_EDITOR) !== null;
      if (open === probe.open) return;
      probe.open = open;
      // A closed editor is reported a little later: the grid sends the committed cell
      // first, and a rerun in between would make it drop that cell.
      if (open) report(true);
      else probe.timer = setTimeout(() => report(false), CLOSE_DELAY_MS);
    };
    probe.observer = new MutationObserver(check);
    probe.observer.observe(document.body, { childList: true, subtree: true });
    probes.set(parentElement, probe);
    check();
  }
  probe.send = setStateValue;
  return () => {
    probe.observer.disconnect();
    clearTimeout(probe.timer);
    probes.delete(parentElement);
  };
}
