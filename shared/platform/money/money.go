// Package money handles exact amounts: decimal strings on the wire, integer
// minor units (pence, cents, yen) in storage and arithmetic, never floats.
package money

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrSyntax reports an amount that is not a plain decimal number.
var ErrSyntax = errors.New("not a decimal amount like 12.50")

// ErrPrecision reports more fraction digits than the currency has.
var ErrPrecision = errors.New("more decimal places than the currency allows")

// ErrRange reports an amount too large to hold in minor units.
var ErrRange = errors.New("amount out of range")

// ErrCurrency reports a code that is not an active ISO 4217 currency.
var ErrCurrency = errors.New("not an ISO 4217 currency code")

// Digits returns the number of minor-unit digits of an ISO 4217 currency
// (2 for GBP, 0 for JPY, 3 for KWD) and whether the code is known.
func Digits(currency string) (int, bool) {
	if len(currency) != 3 {
		return 0, false
	}
	if d, ok := exceptions[currency]; ok {
		return d, true
	}
	if strings.Contains(twoDigit, currency+" ") {
		return 2, true
	}
	return 0, false
}

// Parse converts a decimal string such as "12.50" or "-3" into minor units
// of currency. Trailing zeros beyond the currency's digits are accepted
// ("12.500" GBP); other extra digits are an error rather than rounded.
func Parse(s, currency string) (int64, error) {
	digits, ok := Digits(currency)
	if !ok {
		return 0, ErrCurrency
	}
	return ParseDigits(s, digits)
}

// ParseDigits is Parse for an explicit number of minor-unit digits.
func ParseDigits(s string, digits int) (int64, error) {
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || (hasPoint && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, ErrSyntax
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > digits {
		return 0, ErrPrecision
	}
	frac += strings.Repeat("0", digits-len(frac))
	var v int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, ErrRange
		}
		v = v*10 + d
	}
	if neg {
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes minor units of currency as a decimal string ("12.50").
func Format(minor int64, currency string) string {
	digits, ok := Digits(currency)
	if !ok {
		digits = 2
	}
	return FormatDigits(minor, digits)
}

// FormatDigits is Format for an explicit number of minor-unit digits.
func FormatDigits(minor int64, digits int) string {
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-minor) // two's complement keeps MinInt64 right
	}
	s := fmt.Sprintf("%0*d", digits+1, u)
	if digits == 0 {
		return sign + s
	}
	return sign + s[:len(s)-digits] + "." + s[len(s)-digits:]
}

// exceptions lists the active ISO 4217 codes whose minor unit is not 2.
var exceptions = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// twoDigit lists the active ISO 4217 codes with two minor digits, each
// followed by a space.
const twoDigit = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD " +
	"BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR " +
	"FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD " +
	"KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN " +
	"NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS " +
	"SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VES VED WST XCD " +
	"XCG YER ZAR ZMW ZWG "
