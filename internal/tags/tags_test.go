package tags

import (
	"reflect"
	"testing"
)

func TestParsePatient(t *testing.T) {
	tests := []struct {
		in      string
		want    Patient
		wantErr bool
	}{
		{in: "patient_id", want: Patient{Kind: PatientColumn, Column: "patient_id"}},
		{in: "self", want: Patient{Kind: PatientSelf}},
		{in: " self ", want: Patient{Kind: PatientSelf}},
		{in: "self if kind = 'patient'", want: Patient{Kind: PatientSelf, WhenColumn: "kind", WhenValue: "patient"}},
		{in: "self\tif kind='patient'", want: Patient{Kind: PatientSelf, WhenColumn: "kind", WhenValue: "patient"}},
		// Columns whose names start with "self" are columns, not the self form.
		{in: "self_patient_id", want: Patient{Kind: PatientColumn, Column: "self_patient_id"}},
		{in: "selfpay_id", want: Patient{Kind: PatientColumn, Column: "selfpay_id"}},
		{in: "selfpay_id -> visits.patient_id", want: Patient{Kind: PatientPath, Column: "selfpay_id", Hops: []Hop{{Table: "visits", Column: "patient_id"}}}},
		{in: "self_id->public.visits.patient_id", want: Patient{Kind: PatientPath, Column: "self_id", Hops: []Hop{{Table: "public.visits", Column: "patient_id"}}}},
		{in: "self when kind is patient", wantErr: true},
		{in: "self if kind", wantErr: true},
		{in: "self -> visits.patient_id", wantErr: true},
		{in: "self->visits.patient_id", wantErr: true},
		{in: "", wantErr: true},
		{in: "visit_id -> visits", wantErr: true},
		{in: "patient id", wantErr: true},
	}
	for _, tt := range tests {
		got, msg := parsePatient(tt.in)
		if tt.wantErr {
			if msg == "" {
				t.Errorf("parsePatient(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if msg != "" || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parsePatient(%q) = %+v, %q; want %+v", tt.in, got, msg, tt.want)
		}
	}
}
