package main

import (
	"fmt"
	"os"

	"cotd/config"
	"cotd/images"
)

var renderCommand = command{
	name:    "render",
	summary: "write the mailed version of one photo",
	help: `Usage: cotd render PHOTO OUT.jpg

Example:
    cotd render photos/IMG_1234.jpg /tmp/check.jpg

Writes the mailed version of one photo: turned upright by its EXIF
orientation, fitted within 1280x1280 px, JPEG quality 85, with no metadata
(no EXIF, no GPS position). It is exactly what 'cotd run' mails.
`,
	run: cmdRender,
}

func cmdRender(args []string, e env) error {
	args, err := plainArgs("render", args)
	if err != nil {
		return err
	}
	if len(args) != 2 {
		return config.Usagef("example: cotd render photos/IMG_1234.jpg /tmp/check.jpg", "cotd render takes a photo and an output file")
	}
	in, out := args[0], args[1]
	res, err := images.RenderFile(in, images.Default)
	if err != nil {
		return &hinted{fmt.Errorf("render %s: %w", in, err), "cotd skips such a file in the photo folder; convert it to JPEG or PNG"}
	}
	if err := os.WriteFile(out, res.JPEG, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	fmt.Fprintf(e.stdout, "wrote %s: %dx%d px, %d KB (from %dx%d %s)\n", out, res.Width, res.Height,
		(len(res.JPEG)+1023)/1024, res.SourceWidth, res.SourceHeight, res.Format)
	return nil
}
