# expect: static
try:
    1 / 0
except Exception as e:
    x = e.__traceback__.tb_frame
