"""The baseline deskcam replaces: the original tutorial's desktop streamer, kept as it was
written (Flask + pyautogui.screenshot() + PIL JPEG in a generator) so `make bench` can measure
it beside deskcam. Only the port comes from the command line.

Run: python tutorial_app.py PORT   (with DISPLAY set), then open http://127.0.0.1:PORT/video_feed
"""
import io
import sys

import pyautogui
from flask import Flask, Response, request

app = Flask(__name__)


def gen_frames():
    while True:
        img = pyautogui.screenshot()
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=80)
        frame = buf.getvalue()
        yield (b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + frame + b"\r\n")


@app.route("/video_feed")
def video_feed():
    return Response(gen_frames(), mimetype="multipart/x-mixed-replace; boundary=frame")


@app.route("/pointer")
def pointer():
    # The tutorial's control route: fractions of the image mapped to a fixed 1920x1080 screen
    # (one of the things deskcam fixes). Unused by the benchmark.
    x = float(request.args.get("xrate", 0)) * 1920
    y = float(request.args.get("yrate", 0)) * 1080
    pyautogui.click(x, y)
    return "ok"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
