"""The DragGAN page: `python -m tfgan.drag serve --run RUN`, a FastAPI app around one `Editor`.

The page (`page.html`, plain HTML and JavaScript) draws the image on a canvas, takes
handle/target clicks and a painted region, and polls `/api/state` while a drag runs.
The drag runs in a worker thread, one `DragSession.step()` at a time, checking
for Stop between steps; each step's image, handles, distances and D's score are
what the next poll returns. One editor per server: it is a local tool, bound to
127.0.0.1 by default.
"""

import base64
import io
import threading

import numpy as np

from tfgan import stylemix
from tfgan.drag.session import PSI, DragSession, discriminator_logit, seed_ws

MAX_UPLOAD = 8 * 1024 * 1024  # bytes; larger uploads are refused with a message
PAGE = "page.html"


def png_base64(image):
    """An image [H, W, C] in [-1, 1] as base64 PNG text, for a data URL."""
    from PIL import Image

    from tfgan.visualize import to_uint8

    pixels = to_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


class Editor:
    """The page's document: the latent being edited, what Reset and Undo return to, and the
    drag running now. Every method is safe to call from the server's threads."""

    def __init__(self, generator, discriminator=None, max_steps=300, invert_steps=500, pad=0, **session_options):
        self.generator, self.discriminator, self.pad = generator, discriminator, int(pad)
        self.max_steps, self.invert_steps, self.session_options = int(max_steps), int(invert_steps), session_options
        self.side = int(generator.sample_shape[0])
        self.lock = threading.RLock()
        self.stop_requested = threading.Event()
        self.worker = None
        self.sample(0, PSI, 0 if generator.num_classes else None)

    # --- what the page asks for ---

    def sample(self, seed, psi, label=None):
        label = self._class(label)
        if not 0.0 <= float(psi) <= 1.0 or int(seed) < 0:
            raise ValueError("expected a seed of 0 or more and psi between 0 and 1")
        self._begin(seed_ws(self.generator, int(seed), float(psi), label), None, label)

    def invert(self, data, label=None):
        """A new document: the W+ latent of the uploaded image (bytes), of class `label` for a conditional run."""
        from PIL import Image, UnidentifiedImageError

        from tfgan.invert import projector
        from tfgan.invert.cli import fit_image

        if len(data) > MAX_UPLOAD:
            raise ValueError(f"the upload is {len(data) / 2**20:.1f} MB; the page takes images up to {MAX_UPLOAD // 2**20} MB")
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (OSError, UnidentifiedImageError):
            raise ValueError("the upload is not an image; expected a PNG or JPEG") from None
        channels = self.generator.sample_shape[2]
        target = fit_image(image, self.side, channels, self.pad).astype(np.float32) / 127.5 - 1.0
        label = self._class(label)
        projection = projector.project(self.generator, target, steps=self.invert_steps, label=label)
        self._begin(projection.ws, None, label)
        return projection.psnr

    def start(self, points, mask=None):
        """Drags each [hx, hy, tx, ty] of `points` in a worker thread, from the current latent."""
        with self.lock:
            if self.running:
                raise ValueError("a drag is running; stop it first")
            if not points:
                raise ValueError("click a handle and then its target on the image first")
            handles = [p[:2] for p in points]
            targets = [p[2:] for p in points]
            session = DragSession(self.generator, self.ws, handles, targets, discriminator=self.discriminator,
                                  label=self.label, mask=None if mask is None else np.asarray(mask, np.float32),
                                  noise=self.noise, **self.session_options)
            self.history.append(self.ws)
            self.stop_requested.clear()
            self.state.pop("error", None)
            self.state.update(handles=session.handles.tolist(), targets=session.targets.tolist(), running=True, done=False, steps=0)
            self.worker = threading.Thread(target=self._drag, args=(session,), daemon=True)
            self.worker.start()

    def stop(self):
        self.stop_requested.set()
        worker = self.worker
        if worker is not None:
            worker.join()

    def reset(self):
        """Back to the document's first latent, every edit undone."""
        self.stop()
        with self.lock:
            self.history.clear()
            self._show(self.first)

    def undo(self):
        """Back to the latent before the last drag."""
        self.stop()
        with self.lock:
            if self.history:
                self._show(self.history.pop())

    def snapshot(self):
        with self.lock:
            return dict(self.state, undo=len(self.history))

    def latent_npz(self):
        buffer = io.BytesIO()
        with self.lock:
            np.savez(buffer, **stylemix.latent_arrays(self.ws, self.label, self.noise))
        return buffer.getvalue()

    def image_png(self):
        with self.lock:
            return base64.b64decode(self.state["image"])

    @property
    def running(self):
        return self.worker is not None and self.worker.is_alive()

    # --- inside ---

    def _class(self, label):
        """The class the page asked for (0 if none) for a conditional run; None otherwise."""
        classes = self.generator.num_classes
        label = int(label or 0) if classes else None
        if label is not None and not 0 <= label < classes:
            raise ValueError(f"class {label} is not one of this run's; expected 0 to {classes - 1}")
        return label

    def _begin(self, ws, noise, label):
        self.stop()
        with self.lock:
            self.first, self.noise, self.label, self.history = np.asarray(ws, np.float32), noise, label, []
            self._show(self.first)

    def _show(self, ws):
        """The still image of `ws` (no drag): its picture and D's score."""
        self.ws = np.asarray(ws, np.float32)
        image = self.generator.synthesis(self.ws, training=False, noise=self.noise or "const")[0].numpy()
        score = None if self.discriminator is None else float(discriminator_logit(self.discriminator, image, self.label))
        self.state = {"image": png_base64(image), "side": self.side, "handles": [], "targets": [], "distances": [],
                      "score": score, "steps": 0, "running": False, "done": False}

    def _drag(self, session):
        try:
            while not self.stop_requested.is_set():
                result = session.step(update=session.steps < self.max_steps)
                with self.lock:
                    self.ws = session.ws.numpy()
                    self.state.update(image=png_base64(result.image), handles=result.handles.tolist(), score=result.score,
                                      distances=[round(float(d), 2) for d in result.distances], steps=result.steps, done=result.done)
                if result.done or session.steps >= self.max_steps:
                    break
        except Exception as e:  # shown on the page; the server goes on
            with self.lock:
                self.state["error"] = f"the drag failed: {type(e).__name__}: {' '.join(str(e).split())[:300]}"
            raise
        finally:
            with self.lock:
                self.state["running"] = False


def create_app(editor):
    """The FastAPI app of the page and its JSON API around `editor`."""
    from importlib import resources

    from fastapi import FastAPI, Form, Request, UploadFile
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    app = FastAPI(title="tfgan.drag")
    page = resources.files("tfgan.drag").joinpath(PAGE).read_text()

    def answer(action):
        try:
            result = action()
        except ValueError as e:  # the user's mistake: shown on the page
            return JSONResponse({"error": str(e)}, status_code=400)
        return {**editor.snapshot(), **(result or {})}

    async def answer_in_thread(action):
        # An endpoint that must await its body (async) would otherwise run `action` on the event
        # loop, and an inversion of hundreds of steps would stall every other request meanwhile.
        return await run_in_threadpool(answer, action)

    @app.get("/", response_class=HTMLResponse)
    def index():
        return page

    @app.get("/api/state")
    def state():
        return editor.snapshot()

    @app.post("/api/sample")
    async def sample(request: Request):
        body = await request.json()
        return await answer_in_thread(lambda: editor.sample(body.get("seed", 0), body.get("psi", PSI), body.get("label")))

    @app.post("/api/upload")
    async def upload(file: UploadFile, label: int = Form(0)):
        data = await file.read(MAX_UPLOAD + 1)
        return await answer_in_thread(lambda: {"psnr": round(editor.invert(data, label), 2)})

    @app.post("/api/start")
    async def start(request: Request):
        body = await request.json()
        return await answer_in_thread(lambda: editor.start(body.get("points") or [], body.get("mask")))

    @app.post("/api/stop")
    def stop():
        return answer(editor.stop)

    @app.post("/api/reset")
    def reset():
        return answer(editor.reset)

    @app.post("/api/undo")
    def undo():
        return answer(editor.undo)

    @app.get("/api/image.png")
    def image():
        return Response(editor.image_png(), media_type="image/png", headers={"Content-Disposition": 'attachment; filename="edited.png"'})

    @app.get("/api/latent.npz")
    def latent():
        return Response(editor.latent_npz(), media_type="application/octet-stream",
                        headers={"Content-Disposition": 'attachment; filename="edited.npz"'})

    return app


def serve(run_dir, host="127.0.0.1", port=7860, max_steps=300, invert_steps=500):
    """Loads the run's G (its EMA) and D, and serves the page until Ctrl-C."""
    import uvicorn

    from tfgan.export import run

    generator, _ = run.load_stylegan2(run_dir)
    editor = Editor(generator, run.load_discriminator(run_dir, generator), max_steps=max_steps, invert_steps=invert_steps,
                    pad=run.data_pad(run_dir))
    print(f"tfgan.drag: serving {run_dir} at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(create_app(editor), host=host, port=port, log_level="warning")
