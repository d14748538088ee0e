package web

import (
	qr "github.com/piglig/go-qr"
)

// qrSVG draws text as a QR code in SVG, to be sized by CSS. Medium error
// correction survives a smudged projector; a border of four modules is
// the quiet zone the standard asks for.
func qrSVG(text string) (string, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return "", err
	}
	b, err := code.ToSVGBytes(qr.NewQrCodeImgConfig(1, 4))
	if err != nil {
		return "", err
	}
	return string(b), nil
}
